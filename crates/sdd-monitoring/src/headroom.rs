//! Constraint headroom: every constraint of the spec, judged on the service's own metrics with
//! the verifier's verdict functions (`sdd_spec::verdict`), or listed with the reason it cannot
//! be judged from metrics. Nothing is skipped silently.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use sdd_metrics::summary::{histogram_quantile, Bucket};
use sdd_spec::constraint::CheckSpec;
use sdd_spec::model::{Constraint, ConstraintScope};
use sdd_spec::project::ProjectFile;
use sdd_spec::verdict::{judge_availability, judge_error_rate, judge_latency, Measured, Verdict};
use serde::{Deserialize, Serialize};

use crate::expr::{Expr, RangeFn};
use crate::selector::{regex_escape, MatchOp, Matcher, Selector};
use crate::source::{Source, SourceError};
use crate::window::format_duration;

/// What a question is asked of: the source, the instant and the window.
pub struct Watch<'a> {
    pub project: &'a ProjectFile,
    pub source: &'a Source,
    /// The window's end (ms since the epoch).
    pub at_ms: i64,
    pub window_ms: i64,
    /// The error budget's window.
    pub budget_window_ms: i64,
    /// How many domains the spec has: a constraint scoped to one of several cannot be judged on
    /// the whole service's metrics.
    pub domains: usize,
    /// Answers already fetched in this call, by PromQL: constraints of one scope ask the same.
    pub asked: std::sync::Mutex<std::collections::HashMap<String, Vec<crate::embedded::Sample>>>,
}

impl Watch<'_> {
    pub fn new<'a>(
        project: &'a ProjectFile,
        source: &'a Source,
        at_ms: i64,
        window_ms: i64,
        budget_window_ms: i64,
    ) -> Watch<'a> {
        Watch {
            project,
            source,
            at_ms,
            window_ms,
            budget_window_ms,
            domains: 1,
            asked: Default::default(),
        }
    }

    /// The spec's number of domains (see [`Watch::domains`]).
    pub fn with_domains(mut self, domains: usize) -> Self {
        self.domains = domains.max(1);
        self
    }

    /// `expr` at the watch's instant, asked of the source once per call.
    pub async fn evaluate(&self, expr: &Expr) -> Result<Vec<crate::embedded::Sample>, SourceError> {
        let key = expr.to_string();
        if let Some(answer) = self.asked.lock().ok().and_then(|a| a.get(&key).cloned()) {
            return Ok(answer);
        }
        let answer = self.source.evaluate(expr, self.at_ms).await?;
        if let Ok(mut asked) = self.asked.lock() {
            asked.insert(key, answer.clone());
        }
        Ok(answer)
    }
}

/// How a number was obtained: enough to ask the same of Prometheus by hand.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Method {
    /// The PromQL the number comes from (sent to Prometheus, or evaluated by the embedded store
    /// as Prometheus evaluates it).
    pub query: String,
    /// The window, e.g. `1h`, ending at `at`.
    pub window: String,
    /// How the number is computed from the query's answer.
    pub how: String,
}

/// The error budget of a ratio constraint over its window.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBudget {
    pub window: String,
    pub requests: f64,
    /// Failures the constraint allows over the window at this traffic.
    pub allowed_failures: f64,
    pub failures: f64,
    /// Share of the allowed failures spent (over 100 when exceeded); absent when the
    /// constraint allows no failure at all (a 100 % floor), where any failure is a violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_percent: Option<f64>,
}

/// One constraint against the metrics.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ConstraintHeadroom {
    pub constraint: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// `passing` (within its limit), `failing` (violated), `inconclusive` (measured, but the
    /// numbers cannot decide), `unchecked` (not measured: `why` says so).
    pub status: Verdict,
    /// The verdict's one line: value, limit, headroom, traffic.
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// `(limit − value) / limit` for a ceiling, `(value − floor) / (100 − floor)` for an
    /// availability floor; negative when violated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headroom_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_budget: Option<ErrorBudget>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measured_by: Vec<Method>,
    /// What the constraint also asks that metrics cannot judge (the load it is stated under, a
    /// check only SDD's own traffic can make); a row with any is judged only in part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_judged: Vec<String>,
}

impl ConstraintHeadroom {
    fn new(c: &Constraint) -> ConstraintHeadroom {
        ConstraintHeadroom {
            constraint: c.id.clone(),
            name: c.name.clone(),
            requirement: c.requirement.clone(),
            status: Verdict::Unchecked,
            summary: String::new(),
            value: None,
            limit: None,
            unit: None,
            headroom_percent: None,
            error_budget: None,
            measured_by: Vec::new(),
            not_judged: Vec::new(),
        }
    }

    fn unchecked(mut self, why: impl Into<String>) -> ConstraintHeadroom {
        self.status = Verdict::Unchecked;
        self.summary = why.into();
        self
    }
}

/// Every constraint, in spec order. A source error (unreachable Prometheus, a missing store)
/// is the whole answer's error: no constraint is judged on partial data.
pub async fn constraint_headroom(
    watch: &Watch<'_>,
    constraints: &[&Constraint],
) -> Result<Vec<ConstraintHeadroom>, SourceError> {
    let mut out = Vec::with_capacity(constraints.len());
    for c in constraints {
        out.push(judge(watch, c).await?);
    }
    let down = targets_down(watch).await?;
    if !down.is_empty() {
        // What a target served while it was down is in nobody's metrics: a pass is not one.
        for row in out.iter_mut().filter(|r| r.status == Verdict::Passing) {
            row.status = Verdict::Inconclusive;
            row.summary = format!(
                "{}; but {} was down (up = 0) in the window, and what it served then is not in its metrics",
                row.summary,
                down.join(", ")
            );
        }
    }
    Ok(out)
}

/// The scrape targets whose `up` was 0 at some scrape in the window (`min_over_time(up[…])`),
/// as `instance (job)`; none when nothing records `up` (imported data).
pub async fn targets_down(watch: &Watch<'_>) -> Result<Vec<String>, SourceError> {
    let expr = Expr::range(RangeFn::MinOverTime, Selector::named("up"), watch.window_ms);
    Ok(watch
        .evaluate(&expr)
        .await?
        .into_iter()
        .filter(|(_, value)| *value < 1.0)
        .map(|(labels, _)| {
            let instance = labels.get("instance").cloned().unwrap_or_default();
            match labels.get("job") {
                Some(job) => format!("{instance} ({job})"),
                None => instance,
            }
        })
        .collect())
}

async fn judge(watch: &Watch<'_>, c: &Constraint) -> Result<ConstraintHeadroom, SourceError> {
    let row = ConstraintHeadroom::new(c);
    let mapping = watch.project.monitoring.constraints.get(&c.id);
    if let Some(why) = mapping.and_then(|m| m.unmeasured.as_deref()) {
        return Ok(row.unchecked(format!(
            "not measured from metrics: {why} (monitoring.constraints.{}.unmeasured)",
            c.id
        )));
    }
    if let Some(not) = &c.parsed.not_checkable {
        return Ok(row.unchecked(format!("not machine-checkable: {}", not.reason)));
    }
    // Scoped to one domain of several: the service's metrics do not say which requests are
    // the domain's, and the whole service's would judge it on others' traffic.
    let mapped = mapping.and_then(|m| m.histogram.as_ref()).is_some();
    if !mapped && watch.domains > 1 {
        if let ConstraintScope::Domain(name) | ConstraintScope::Interaction(name) = &c.scope {
            return Ok(row.unchecked(format!(
                "not measured: it holds for `{name}`, one of the spec's {} domains, and the service's metrics do not say which requests are `{name}`'s; name them under monitoring.constraints.{}.histogram",
                watch.domains, c.id
            )));
        }
    }
    // Every check with a meaning in production metrics is judged; the others are named.
    let mut parts = Vec::new();
    let mut not_judged = Vec::new();
    let has_latency = c
        .parsed
        .checks
        .iter()
        .any(|check| matches!(check, CheckSpec::Latency { .. }));
    for check in &c.parsed.checks {
        match check {
            CheckSpec::Latency {
                percentile,
                max_ms,
                scope,
            } => parts.push(latency(watch, c, row.clone(), *percentile, *max_ms, scope).await?),
            CheckSpec::ErrorRate {
                max_percent,
                counted_4xx,
            } => parts.push(error_rate(watch, c, row.clone(), *max_percent, counted_4xx).await?),
            CheckSpec::Availability { min_percent } => {
                parts.push(availability(watch, c, row.clone(), *min_percent).await?)
            }
            CheckSpec::Throughput { per_second, unit } if has_latency => not_judged.push(format!(
                "the load it is stated under ({per_second} {unit}/s): production traffic is what users send, and verify_constraints measures it at that rate"
            )),
            other => not_judged.push(format!(
                "its {} check: it needs traffic SDD makes itself (verify_constraints runs it)",
                check_kind(other)
            )),
        }
    }
    if parts.is_empty() {
        let kinds: Vec<&str> = c.parsed.checks.iter().map(check_kind).collect();
        return Ok(row.unchecked(format!(
            "not measured from metrics: its {} check needs traffic SDD makes itself (verify_constraints runs it); production metrics show what users sent, not what the service can take or refuse",
            kinds.join(" and ")
        )));
    }
    Ok(combine(parts, not_judged))
}

/// How much a status weighs when the parts of a constraint are put together: the row says
/// the worst.
fn weight(status: Verdict) -> u8 {
    match status {
        Verdict::Passing => 0,
        Verdict::Unchecked => 1,
        Verdict::Inconclusive => 2,
        Verdict::Failing => 3,
    }
}

/// One row from the judged parts of a constraint: the worst part's figures and status, every
/// part's line and queries, and what was not judged.
fn combine(parts: Vec<ConstraintHeadroom>, not_judged: Vec<String>) -> ConstraintHeadroom {
    let worst = parts
        .iter()
        .enumerate()
        .max_by_key(|(i, p)| (weight(p.status), std::cmp::Reverse(*i)))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let summaries: Vec<String> = parts.iter().map(|p| p.summary.clone()).collect();
    let budget = parts.iter().find_map(|p| p.error_budget.clone());
    let measured_by = parts.iter().flat_map(|p| p.measured_by.clone()).collect();
    let mut row = parts.into_iter().nth(worst).expect("a part");
    row.summary = summaries.join("; ");
    row.error_budget = budget;
    row.measured_by = measured_by;
    if !not_judged.is_empty() {
        row.summary = format!(
            "{}; not judged from metrics: {}",
            row.summary,
            not_judged.join("; ")
        );
    }
    row.not_judged = not_judged;
    row
}

fn check_kind(check: &CheckSpec) -> &'static str {
    match check {
        CheckSpec::Latency { .. } => "latency",
        CheckSpec::Throughput { .. } => "throughput",
        CheckSpec::Concurrency { .. } => "concurrency",
        CheckSpec::ErrorRate { .. } => "error rate",
        CheckSpec::Availability { .. } => "availability",
        CheckSpec::SuccessRate { .. } => "success rate",
        CheckSpec::RateLimit { .. } => "rate limit",
        CheckSpec::Authentication { .. } => "authentication",
        CheckSpec::InjectionSafe { .. } => "injection",
        CheckSpec::TimeBound { .. } => "time bound",
        CheckSpec::MaxSize { .. } => "size",
        CheckSpec::Capacity { .. } => "capacity",
        CheckSpec::NoDataLoss { .. } => "data loss",
        CheckSpec::Ownership { .. } => "ownership",
    }
}

/// The request-duration histogram's selectors for a constraint: its own mapping, or the
/// convention's histogram narrowed to the scope's routes (`load.endpoints` of the scope, as
/// the verifier loads them; `reads` / `writes` by method otherwise; `all` unnarrowed).
pub fn histogram_selectors(
    project: &ProjectFile,
    constraint_id: &str,
    scope: &str,
) -> Result<Vec<Selector>, String> {
    if let Some(text) = project
        .monitoring
        .constraints
        .get(constraint_id)
        .and_then(|m| m.histogram.as_deref())
    {
        let selector = Selector::parse(text)
            .map_err(|e| format!("monitoring.constraints.{constraint_id}.histogram: {e}"))?;
        return Ok(vec![selector]);
    }
    let histogram = Selector::named(&project.monitoring.convention.request_duration);
    let reads = || Matcher::new("method", MatchOp::Regex, "GET|HEAD").expect("a valid regex");
    let listed = project.load.endpoints.get(scope).filter(|l| !l.is_empty());
    match (scope, listed) {
        (_, Some(endpoints)) => {
            // One selector per method, its routes as one anchored alternation.
            let mut by_method: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for e in endpoints {
                by_method
                    .entry(e.method.to_ascii_uppercase())
                    .or_default()
                    .push(route_pattern(&e.path));
            }
            by_method
                .into_iter()
                .map(|(method, mut routes)| {
                    routes.sort();
                    routes.dedup();
                    Ok(histogram
                        .clone()
                        .with(Matcher::equal("method", &method))
                        .with(Matcher::new("route", MatchOp::Regex, &routes.join("|"))?))
                })
                .collect()
        }
        ("all", None) => Ok(vec![histogram]),
        ("reads", None) => Ok(vec![histogram.with(reads())]),
        ("writes", None) => Ok(vec![histogram.with(
            Matcher::new("method", MatchOp::NotRegex, "GET|HEAD").expect("a valid regex"),
        )]),
        (other, None) => Err(format!(
            "the scope `{other}` names no requests: list them under load.endpoints.{other} (their routes are measured), or name the histogram under monitoring.constraints.{constraint_id}.histogram"
        )),
    }
}

/// A load endpoint's path as a `route` label pattern: the query dropped, a segment that is a
/// number or a placeholder (`{{seq}}`, `{id}`, `${id}`) matching any one segment — the route
/// template the service reports (`/tasks/{id}`) included.
fn route_pattern(path: &str) -> String {
    let path = path.split('?').next().unwrap_or("");
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| {
            let variable = !segment.is_empty()
                && (segment.bytes().all(|b| b.is_ascii_digit())
                    || segment.contains('{')
                    || segment.contains('$'));
            if variable {
                "[^/]+".to_string()
            } else {
                regex_escape(segment)
            }
        })
        .collect();
    let joined = segments.join("/");
    if joined.is_empty() {
        "/".into()
    } else {
        joined
    }
}

/// Requests and refusals by status over a window, from the histogram's `_count`.
struct Traffic {
    measured: Measured,
    query: String,
    /// Requests whose series carry neither a `status` nor a `code` label: nothing can tell
    /// their failures from their answers.
    without_status: f64,
}

impl Traffic {
    /// The traffic for a ratio verdict (error rate, availability). The verdict functions were
    /// written for SDD's own load, where mostly-4xx answers mean SDD was refused and measured
    /// nothing; users' traffic in production is what it is, and its 4xx are answers the
    /// service chose to give (the counted ones still count, from `status_counts`).
    fn as_users_sent_it(&self) -> Measured {
        Measured {
            status_4xx: 0,
            ..self.measured.clone()
        }
    }
}

async fn traffic_in(
    watch: &Watch<'_>,
    histograms: &[Selector],
    range_ms: i64,
) -> Result<Traffic, SourceError> {
    let counts: Vec<Selector> = histograms
        .iter()
        .map(|s| s.renamed(&format!("{}_count", s.metric)))
        .collect();
    // `status` by the convention; `code` as Prometheus' own Go client (promhttp) names it.
    let expr = Expr::sum_by(
        &["status", "code"],
        Expr::Range {
            func: RangeFn::Increase,
            selectors: counts,
            range_ms,
        },
    );
    let answer = watch.evaluate(&expr).await?;
    let mut m = Measured::default();
    let (mut total, mut c4, mut c5, mut without_status) = (0.0, 0.0, 0.0, 0.0);
    for (labels, value) in &answer {
        if !value.is_finite() {
            continue;
        }
        let status = labels
            .get("status")
            .or_else(|| labels.get("code"))
            .cloned()
            .unwrap_or_default();
        if status.is_empty() {
            without_status += value;
        }
        total += value;
        match status.as_bytes().first() {
            Some(b'4') => c4 += value,
            Some(b'5') => c5 += value,
            _ => {}
        }
        *m.status_counts.entry(status).or_insert(0) += value.round() as u64;
    }
    m.requests = total.round() as u64;
    m.status_4xx = c4.round() as u64;
    m.status_5xx = c5.round() as u64;
    m.achieved_rate = total / (range_ms as f64 / 1000.0);
    Ok(Traffic {
        measured: m,
        query: expr.to_string(),
        without_status,
    })
}

impl Traffic {
    /// Why failures cannot be counted, when some requests carry no status.
    fn status_unknown(&self) -> Option<String> {
        (self.without_status >= 0.5).then(|| {
            format!(
                "{:.0} of the {} requests carry neither a `status` nor a `code` label, so failures cannot be told from answers; label the histogram by status (README, \"Metrics convention\")",
                self.without_status, self.measured.requests
            )
        })
    }
}

/// Where a percentile stands against a limit, from the buckets alone: a histogram knows only
/// how many observations fell at or below each bound, so a limit between two bounds is
/// decided only when the whole bucket is on one side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BucketDecision {
    AtOrBelow,
    Above,
    /// The percentile lies in the bucket `(lower, upper]`, which holds the limit.
    Undecided {
        lower: f64,
        upper: f64,
    },
}

pub fn decide_by_buckets(q: f64, buckets: &[Bucket], limit: f64) -> BucketDecision {
    let mut sorted = buckets.to_vec();
    sorted.sort_by(|a, b| a.upper_bound.total_cmp(&b.upper_bound));
    // Buckets of one bound (series differing in another label) are one.
    let mut merged: Vec<Bucket> = Vec::new();
    for b in sorted {
        match merged.last_mut() {
            Some(last) if last.upper_bound == b.upper_bound => last.count += b.count,
            _ => merged.push(b),
        }
    }
    // Cumulative counts can dip between bounds when counters reset at different moments;
    // Prometheus' monotonic envelope: each bound holds at least what a lower one holds.
    let mut highest: f64 = 0.0;
    for b in &mut merged {
        highest = highest.max(b.count);
        b.count = highest;
    }
    let total = merged.last().map(|b| b.count).unwrap_or(0.0);
    let rank = q * total;
    let at = |bound: f64| {
        merged
            .iter()
            .rev()
            .find(|b| b.upper_bound <= bound)
            .map(|b| b.count)
            .unwrap_or(0.0)
    };
    // `+Inf` is close to nothing (∞ − x ≤ 1e-9·∞ would say it is close to everything).
    let close = |a: f64, b: f64| a.is_finite() && (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
    if let Some(exact) = merged.iter().find(|b| close(b.upper_bound, limit)) {
        return if exact.count >= rank {
            BucketDecision::AtOrBelow
        } else {
            BucketDecision::Above
        };
    }
    let lower = merged
        .iter()
        .rev()
        .find(|b| b.upper_bound < limit)
        .map(|b| b.upper_bound)
        .unwrap_or(0.0);
    let upper = merged
        .iter()
        .find(|b| b.upper_bound > limit)
        .map(|b| b.upper_bound)
        .unwrap_or(f64::INFINITY);
    if at(lower) >= rank {
        BucketDecision::AtOrBelow
    } else if upper.is_finite() && at(upper) < rank {
        BucketDecision::Above
    } else {
        BucketDecision::Undecided { lower, upper }
    }
}

async fn latency(
    watch: &Watch<'_>,
    c: &Constraint,
    mut row: ConstraintHeadroom,
    percentile: f64,
    max_ms: f64,
    scope: &str,
) -> Result<ConstraintHeadroom, SourceError> {
    let histograms = match histogram_selectors(watch.project, &c.id, scope) {
        Ok(h) => h,
        Err(why) => return Ok(row.unchecked(format!("not measured: {why}"))),
    };
    let window = format_duration(watch.window_ms);
    let q = percentile / 100.0;
    // The operation's latency: what the service answered as itself, not its refusals (a 401
    // or 429 is fast and says nothing of the operation). 5xx stay: fast failures are no fast
    // answers, and the verdict's error guard judges them.
    let not_4xx = |label| Matcher::new(label, MatchOp::NotRegex, "4..").expect("a valid regex");
    let histograms: Vec<Selector> = histograms
        .into_iter()
        .map(|s| s.with(not_4xx("status")).with(not_4xx("code")))
        .collect();
    let buckets: Vec<Selector> = histograms
        .iter()
        .map(|s| s.renamed(&format!("{}_bucket", s.metric)))
        .collect();
    let bucket_expr = Expr::sum_by(
        &["le"],
        Expr::Range {
            func: RangeFn::Increase,
            selectors: buckets.clone(),
            range_ms: watch.window_ms,
        },
    );
    let shown = Expr::latency_quantile(q, buckets, watch.window_ms, &[]);
    let answer = watch.evaluate(&bucket_expr).await?;
    let buckets: Vec<Bucket> = answer
        .iter()
        .filter_map(|(labels, count)| {
            let bound = match labels.get("le")?.as_str() {
                "+Inf" => f64::INFINITY,
                other => other.parse().ok()?,
            };
            Some(Bucket {
                upper_bound: bound,
                count: *count,
            })
        })
        .collect();
    let traffic = traffic_in(watch, &histograms, watch.window_ms).await?;
    row.limit = Some(max_ms);
    row.unit = Some("ms".into());
    row.measured_by.push(Method {
        query: shown.to_string(),
        window: window.clone(),
        how: format!(
            "{} from the buckets' increase (linear inside a bucket, as histogram_quantile); the verdict from the buckets themselves: decided when the limit is a bucket bound or the whole bucket is on one side",
            sdd_spec::verdict::format_percentile(percentile)
        ),
    });
    row.measured_by.push(Method {
        query: traffic.query.clone(),
        window: window.clone(),
        how: "requests by status, 4xx refusals left out (as from the percentile): 5xx are failures"
            .into(),
    });
    if buckets.is_empty() || traffic.measured.requests == 0 {
        return Ok(row.unchecked(format!(
            "no requests measured in the last {window} by `{}`: is the service running, emitting the metrics convention (README, \"Metrics convention\") and being scraped (`sdd monitor`, or the Prometheus of monitoring.source)?",
            histograms
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    let estimate_ms = histogram_quantile(q, &buckets) * 1000.0;
    if !estimate_ms.is_finite() {
        // NaN: no `+Inf` bucket, or under two buckets — a number here would pass anything.
        row.status = Verdict::Inconclusive;
        row.summary = format!(
            "the histogram's buckets give no {} in the last {window} (a `+Inf` bucket and at least two bounds are needed): {} buckets seen",
            sdd_spec::verdict::format_percentile(percentile),
            buckets.len()
        );
        return Ok(row);
    }
    if let Some(why) = traffic.status_unknown() {
        // The verdict's guard (more than 1 % failures fails it) cannot run.
        row.status = Verdict::Inconclusive;
        row.summary = format!(
            "{} = {estimate_ms:.1} ms, limit {max_ms} ms; but {why}",
            sdd_spec::verdict::format_percentile(percentile)
        );
        row.value = Some(estimate_ms);
        row.headroom_percent = Some((max_ms - estimate_ms) / max_ms * 100.0);
        return Ok(row);
    }
    let (mut verdict, mut line) = judge_latency(
        &traffic.measured,
        percentile,
        estimate_ms,
        max_ms,
        &format!("{scope}, last {window}"),
        false,
    );
    // The estimate interpolates inside a bucket; only the buckets themselves can say which
    // side of the limit the percentile is on — unless the verdict's guard decided on other
    // grounds (too many failures), which no bucket can undo.
    let guarded = sdd_spec::verdict::guard(&traffic.measured).is_some();
    if !guarded && matches!(verdict, Verdict::Passing | Verdict::Failing) {
        match decide_by_buckets(q, &buckets, max_ms / 1000.0) {
            BucketDecision::AtOrBelow if verdict == Verdict::Failing && estimate_ms > max_ms => {
                // Interpolation put it above, the buckets below: the buckets count.
                verdict = Verdict::Passing;
            }
            BucketDecision::Above if verdict == Verdict::Passing => {
                verdict = Verdict::Failing;
            }
            BucketDecision::Undecided { lower, upper } => {
                verdict = Verdict::Inconclusive;
                line = format!(
                    "{line}; but the histogram cannot tell: the limit {max_ms} ms lies inside the bucket ({} ms, {} ms] that holds the {}, so add a bucket bound at {} s to decide",
                    lower * 1000.0,
                    upper * 1000.0,
                    sdd_spec::verdict::format_percentile(percentile),
                    max_ms / 1000.0
                );
            }
            _ => {}
        }
    }
    row.status = verdict;
    row.summary = line;
    row.value = Some(estimate_ms);
    row.headroom_percent = Some((max_ms - estimate_ms) / max_ms * 100.0);
    Ok(row)
}

async fn error_rate(
    watch: &Watch<'_>,
    c: &Constraint,
    mut row: ConstraintHeadroom,
    max_percent: f64,
    counted_4xx: &[u16],
) -> Result<ConstraintHeadroom, SourceError> {
    let histograms = match histogram_selectors(watch.project, &c.id, "all") {
        Ok(h) => h,
        Err(why) => return Ok(row.unchecked(format!("not measured: {why}"))),
    };
    let window = format_duration(watch.window_ms);
    let traffic = traffic_in(watch, &histograms, watch.window_ms).await?;
    row.measured_by.push(Method {
        query: traffic.query.clone(),
        window: window.clone(),
        how: "failed share: 5xx and the 4xx the constraint counts, over all requests".into(),
    });
    row.limit = Some(max_percent);
    row.unit = Some("%".into());
    if traffic.measured.requests == 0 {
        return Ok(row.unchecked(format!("no requests measured in the last {window}")));
    }
    if let Some(why) = traffic.status_unknown() {
        return Ok(row.unchecked(format!("not measured: {why}")));
    }
    let (verdict, line) = judge_error_rate(&traffic.as_users_sent_it(), max_percent, counted_4xx);
    let failed = counted_failures(&traffic.measured, counted_4xx);
    let value = failed / traffic.measured.requests as f64 * 100.0;
    row.status = verdict;
    row.summary = line;
    row.value = Some(value);
    row.headroom_percent = Some((max_percent - value) / max_percent * 100.0);
    row.error_budget = Some(
        budget(
            watch,
            &histograms,
            max_percent / 100.0,
            counted_4xx,
            &mut row,
        )
        .await?,
    );
    Ok(row)
}

fn counted_failures(m: &Measured, counted_4xx: &[u16]) -> f64 {
    let counted: u64 = m
        .status_counts
        .iter()
        .filter(|(s, _)| {
            s.parse::<u16>()
                .is_ok_and(|code| counted_4xx.contains(&code))
        })
        .map(|(_, n)| *n)
        .sum();
    (m.status_5xx + m.transport_errors + counted) as f64
}

async fn availability(
    watch: &Watch<'_>,
    c: &Constraint,
    mut row: ConstraintHeadroom,
    min_percent: f64,
) -> Result<ConstraintHeadroom, SourceError> {
    let histograms = match histogram_selectors(watch.project, &c.id, "all") {
        Ok(h) => h,
        Err(why) => return Ok(row.unchecked(format!("not measured: {why}"))),
    };
    // Availability is judged over the budget's window (30 days unless sdd.yaml says
    // otherwise): an hour of one 5xx in a hundred requests is budget spent, not a violation.
    let window = format_duration(watch.budget_window_ms);
    let traffic = traffic_in(watch, &histograms, watch.budget_window_ms).await?;
    row.measured_by.push(Method {
        query: traffic.query.clone(),
        window: window.clone(),
        how: "answered without a 5xx, over all requests the service saw (requests that never reached it are not in its metrics: the synthetic journeys see those)".into(),
    });
    row.limit = Some(min_percent);
    row.unit = Some("%".into());
    if traffic.measured.requests == 0 {
        return Ok(row.unchecked(format!("no requests measured in the last {window}")));
    }
    if let Some(why) = traffic.status_unknown() {
        return Ok(row.unchecked(format!("not measured: {why}")));
    }
    // The budget's window is long; the answer is about now: no traffic in the tool's window
    // means the figures are old, and nothing says how the service does now.
    let recent = traffic_in(watch, &histograms, watch.window_ms).await?;
    if recent.measured.requests == 0 {
        return Ok(row.unchecked(format!(
            "no requests measured in the last {}: the last {window}'s figures are older, and nothing says how the service does now",
            format_duration(watch.window_ms)
        )));
    }
    let (verdict, line) = judge_availability(&traffic.as_users_sent_it(), min_percent);
    let value = 100.0 - traffic.measured.error_rate() * 100.0;
    row.status = verdict;
    row.summary = format!("{line} over the last {window}");
    row.value = Some(value);
    row.headroom_percent = Some(if min_percent < 100.0 {
        (value - min_percent) / (100.0 - min_percent) * 100.0
    } else if value >= 100.0 {
        0.0
    } else {
        -100.0
    });
    row.error_budget = Some(error_budget(
        &window,
        traffic.measured.requests as f64,
        traffic.measured.status_5xx as f64,
        1.0 - min_percent / 100.0,
    ));
    Ok(row)
}

async fn budget(
    watch: &Watch<'_>,
    histograms: &[Selector],
    allowed_share: f64,
    counted_4xx: &[u16],
    row: &mut ConstraintHeadroom,
) -> Result<ErrorBudget, SourceError> {
    let window = format_duration(watch.budget_window_ms);
    let traffic = traffic_in(watch, histograms, watch.budget_window_ms).await?;
    row.measured_by.push(Method {
        query: traffic.query.clone(),
        window: window.clone(),
        how: "the error budget: failures allowed at this traffic, and spent".into(),
    });
    Ok(error_budget(
        &window,
        traffic.measured.requests as f64,
        counted_failures(&traffic.measured, counted_4xx),
        allowed_share,
    ))
}

/// The budget of `requests` when `allowed_share` of them may fail.
pub fn error_budget(window: &str, requests: f64, failures: f64, allowed_share: f64) -> ErrorBudget {
    let allowed = requests * allowed_share;
    let spent = if allowed > 0.0 {
        Some(failures / allowed * 100.0)
    } else if allowed_share > 0.0 {
        // No traffic: nothing allowed, nothing spent.
        Some(0.0)
    } else {
        None
    };
    ErrorBudget {
        window: window.to_string(),
        requests,
        allowed_failures: allowed,
        failures,
        spent_percent: spent,
        left_percent: spent.map(|s| 100.0 - s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        pairs
            .iter()
            .map(|&(upper_bound, count)| Bucket { upper_bound, count })
            .collect()
    }

    #[test]
    fn bucket_decisions() {
        use BucketDecision::*;
        let inf = f64::INFINITY;
        // 100 observations: 90 at or below 0.05 s, 96 at or below 0.1, all below 0.25.
        let b = buckets(&[(0.05, 90.0), (0.1, 96.0), (0.25, 100.0), (inf, 100.0)]);
        let cases = [
            ("limit on a bound, p95 below", 0.95, 0.1, AtOrBelow),
            ("limit on a bound, p99 above", 0.99, 0.1, Above),
            (
                "limit inside a bucket, whole bucket below",
                0.9,
                0.07,
                AtOrBelow,
            ),
            (
                "limit inside a bucket, whole bucket above",
                0.99,
                0.07,
                Above,
            ),
            (
                "limit inside the bucket holding the p95",
                0.95,
                0.08,
                Undecided {
                    lower: 0.05,
                    upper: 0.1,
                },
            ),
            (
                "limit below every bound",
                0.5,
                0.01,
                Undecided {
                    lower: 0.0,
                    upper: 0.05,
                },
            ),
            ("limit above every finite bound", 0.99, 1.0, AtOrBelow),
        ];
        for (name, q, limit, want) in cases {
            assert_eq!(decide_by_buckets(q, &b, limit), want, "{name}");
        }
        // All in +Inf: nothing finite can be said above the last bound.
        let slow = buckets(&[(0.1, 0.0), (inf, 10.0)]);
        assert_eq!(
            decide_by_buckets(0.95, &slow, 0.2),
            Undecided {
                lower: 0.1,
                upper: inf
            }
        );
        assert_eq!(decide_by_buckets(0.95, &slow, 0.1), Above);
        // Buckets of one bound from two series add up; a dip is evened out.
        let split = buckets(&[(0.1, 40.0), (0.1, 55.0), (0.05, 96.0), (inf, 100.0)]);
        assert_eq!(decide_by_buckets(0.95, &split, 0.1), AtOrBelow);
    }

    #[test]
    fn route_patterns() {
        let cases = [
            ("/tasks?limit=20", "/tasks"),
            ("/tasks/123", "/tasks/[^/]+"),
            ("/tasks/{{seq}}/complete", "/tasks/[^/]+/complete"),
            ("/a.b", r"/a\.b"),
            ("/", "/"),
            ("", "/"),
        ];
        for (path, pattern) in cases {
            assert_eq!(route_pattern(path), pattern, "{path}");
            let m = Matcher::new("route", MatchOp::Regex, pattern).unwrap();
            assert!(
                m.matches(if path.is_empty() {
                    "/"
                } else {
                    path.split('?').next().unwrap()
                }) || path.contains('{'),
                "{path}"
            );
        }
        assert!(
            Matcher::new("route", MatchOp::Regex, &route_pattern("/tasks/1"))
                .unwrap()
                .matches("/tasks/{id}")
        );
    }

    #[test]
    fn budgets() {
        let b = error_budget("30d", 100_000.0, 40.0, 0.001);
        assert!((b.allowed_failures - 100.0).abs() < 1e-9);
        assert!((b.spent_percent.unwrap() - 40.0).abs() < 1e-9);
        assert!((b.left_percent.unwrap() - 60.0).abs() < 1e-9);
        let over = error_budget("30d", 1000.0, 3.0, 0.001);
        assert!(over.left_percent.unwrap() < 0.0);
        let quiet = error_budget("30d", 0.0, 0.0, 0.001);
        assert_eq!(quiet.spent_percent, Some(0.0));
        assert_eq!(error_budget("30d", 10.0, 1.0, 0.0).spent_percent, None);
    }
}

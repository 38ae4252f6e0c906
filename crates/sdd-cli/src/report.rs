//! `sdd report`: one self-contained HTML page (no scripts, no network) from the last
//! verification (`.sdd/last-verify.json`), the run history (`.sdd/history.sqlite3`), the
//! monitoring server and the debugger server: the verdict and its steps, the scenario matrix,
//! every constraint's verdict with a latency percentile plot per performance run, and the
//! trend of the last runs as status grids; then the operations part — the service as
//! monitoring sees it now (each approved scenario's health; the constraint console, each
//! constraint's headroom with a trend line of its measure over the window and its time to
//! violation), and `operations.rs`'s recent incidents and one transaction's waterfall.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sdd_history::{History, HistoryQuery, RunKind};
use sdd_metrics::summary::{histogram_quantile, Bucket};
use sdd_monitoring::degradation::report::Outlook;
use sdd_spec::verdict::{Overall, Verdict};
use sdd_verify::consistency::ConsistencyCheck;
use sdd_verify::constraints::ConstraintVerdict;

use crate::cli::ReportArgs;
use crate::status::{
    budget_text, headroom_text, journeys_text, limit_text, measures, scenario_detail, service_text,
    short_reason, value_text, ConstraintHeadroom, DegradationResult, HeadroomAnswer, Health,
    HealthAnswer, Measure, Monitoring, SeriesSteps,
};
use crate::svg::{escape, percentile_curve, sparkline, status_color, status_grid, Cell};
use crate::verify::{Verification, LAST_VERIFY};
use crate::{sayln, shown};

/// How many runs of each kind the trend shows.
const TREND_RUNS: usize = 12;

/// The most steps a constraint's trend line has, and the shortest step (a scrape interval).
const TREND_POINTS: i64 = 60;
const TREND_SHORTEST_STEP_MS: i64 = 15_000;

pub async fn run(options: &ReportArgs) -> Result<ExitCode, String> {
    let root = options.project.root()?;
    let last = root.join(LAST_VERIFY);
    let text = std::fs::read_to_string(&last).map_err(|_| {
        format!(
            "no verification to report in {}: run `sdd verify` first",
            shown(&root)
        )
    })?;
    let verification: Verification = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a verification this sdd wrote: {e}", shown(&last)))?;
    let history = History::open(&root);
    let trend = match &history {
        Ok(history) => trend(history),
        Err(e) => format!(
            "<p class=\"note\">No history: {}</p>",
            escape(&e.to_string())
        ),
    };
    let incidents = match &history {
        Ok(history) => crate::operations::recent_incidents(history),
        Err(e) => Err(e.to_string()),
    };
    let recorded = history.as_ref().ok().and_then(|h| h.incident_count().ok());
    // Closed before the servers are asked: they open the history themselves.
    drop(history);
    let mut production = monitoring_sections(&root).await;
    production.push_str(&crate::operations::incidents_section(&incidents, recorded));
    production.push_str(
        &crate::operations::transaction_section(&root, options.trace.as_deref(), &incidents).await,
    );
    let html = page(&verification, &production, &trend);
    let out = output_path(&root, options.out.as_deref())?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&out, html).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    sayln!("report: {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// `--out` (inside the project) or `.sdd/report.html`.
fn output_path(root: &Path, out: Option<&Path>) -> Result<PathBuf, String> {
    let Some(out) = out else {
        return Ok(root.join(".sdd/report.html"));
    };
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let relative = cwd
        .join(out)
        .strip_prefix(root)
        .map(Path::to_path_buf)
        .map_err(|_| {
            format!(
                "--out {} is outside the project; the report stays inside it",
                out.display()
            )
        })?;
    sdd_spec::project::confine(root, &relative.to_string_lossy())
        .ok_or_else(|| format!("--out {} leaves the project", out.display()))
}

fn badge(status: &str) -> String {
    if status == "-" {
        return r#"<span class="none">—</span>"#.into();
    }
    // "proposed, not verified" is coloured as its first word.
    let color = status_color(status.split(',').next().unwrap_or(status));
    let text = if matches!(color, "#d0d7de" | "#eaeef2") {
        "#1f2328"
    } else {
        "#fff"
    };
    format!(
        r#"<span class="badge" style="background:{color};color:{text}">{}</span>"#,
        escape(status)
    )
}

/// What was not verified, and why, for the header.
fn not_verified_list(v: &Verification) -> String {
    if v.not_verified.is_empty() {
        return String::new();
    }
    let items: Vec<String> = v
        .not_verified
        .iter()
        .map(|n| format!("{} ({})", escape(&n.subject), escape(&n.why)))
        .collect();
    format!("<p>not verified: {}</p>", items.join(", "))
}

fn page(v: &Verification, operations: &str, trend: &str) -> String {
    let mut body = String::new();
    // A file from before `overall` said only whether anything failed: it cannot claim more.
    let overall = v.overall.unwrap_or(if v.ok {
        Overall::NoFailures
    } else {
        Overall::Failed
    });
    let (class, details) = match overall {
        Overall::Verified => ("ok", String::new()),
        Overall::NoFailures => ("partial", not_verified_list(v)),
        Overall::Failed => ("failed", not_verified_list(v)),
    };
    let _ = write!(
        body,
        r#"<header class="{class}"><h1>{}</h1><p class="glance">{}</p>{details}<p>{} — verified {} in {:.1} s</p></header>"#,
        overall.as_str(),
        escape(&at_a_glance(v)),
        escape(&v.project),
        escape(&v.started_at),
        v.duration_seconds
    );

    body.push_str(
        "<h2>Steps</h2><table><tr><th>step</th><th></th><th>result</th><th>seconds</th></tr>",
    );
    for s in &v.steps {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{:.1}</td></tr>",
            escape(&s.name),
            badge(if s.ok { "passing" } else { "failing" }),
            escape(&s.summary),
            s.seconds
        );
    }
    body.push_str("</table>");

    body.push_str(r#"<h2>Scenarios</h2><table class="matrix"><tr><th>scenario</th><th>review</th><th>tests</th><th>examples</th><th>verdict</th></tr>"#);
    for s in &v.scenarios {
        let _ = write!(
            body,
            "<tr><td><b>{}</b><br><small>{}</small>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&s.name),
            escape(&s.id),
            s.detail
                .as_deref()
                .map(|d| format!("<div class=\"detail\">{}</div>", escape(d)))
                .unwrap_or_default(),
            escape(&s.review),
            badge(&s.tests),
            badge(&s.examples),
            badge(&s.verdict)
        );
    }
    body.push_str("</table>");

    if !v.constraints.is_empty() {
        body.push_str("<h2>Constraints</h2>");
        for c in &v.constraints {
            constraint_section(&mut body, c);
        }
    }
    if let Some(c) = &v.consistency {
        consistency_section(&mut body, c);
    }

    body.push_str("<h2>Trend of the last runs</h2>");
    body.push_str(trend);

    // The service as it runs, after the verification of the build: one page, so it travels
    // as one file (and links nothing).
    let _ = write!(
        body,
        "<section class=\"operations\" id=\"operations\"><h1>Operations</h1><p class=\"note\">The service as it runs: each approved scenario's health and each constraint's headroom and time to violation (the monitoring server), the incidents recorded in the run history, and one transaction step by step (the debugger server).</p>{operations}</section>"
    );

    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>SDD report — {}</title><style>{STYLE}</style></head><body>{body}<footer>Generated by sdd {} from {}, the run history, the monitoring server and the debugger server. Self-contained: no scripts, no network.</footer></body></html>\n",
        overall.as_str(),
        env!("CARGO_PKG_VERSION"),
        LAST_VERIFY
    )
}

/// One line: approved scenarios passing, constraint verdicts, proposals waiting.
fn at_a_glance(v: &Verification) -> String {
    let approved = v.scenarios.iter().filter(|s| s.review == "approved");
    let passing = approved.clone().filter(|s| s.verdict == "passing").count();
    let mut parts = vec![format!(
        "{passing} of {} approved scenarios passing",
        approved.count()
    )];
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for c in &v.constraints {
        let verdict = c.verdict.as_str();
        match counts.iter_mut().find(|(name, _)| *name == verdict) {
            Some((_, n)) => *n += 1,
            None => counts.push((verdict, 1)),
        }
    }
    if !counts.is_empty() {
        let list: Vec<String> = counts
            .iter()
            .map(|(name, n)| format!("{n} {name}"))
            .collect();
        parts.push(format!("constraints: {}", list.join(", ")));
    }
    let proposals = v
        .scenarios
        .iter()
        .filter(|s| s.review == "proposed")
        .count();
    if proposals > 0 {
        parts.push(format!(
            "{proposals} proposal(s) awaiting review (`sdd review`)"
        ));
    }
    let changed = v
        .scenarios
        .iter()
        .filter(|s| s.review == crate::verify::CHANGED_SINCE_APPROVAL)
        .count();
    if changed > 0 {
        parts.push(format!(
            "{changed} changed since approval, not verified (`sdd review`)"
        ));
    }
    parts.join(" · ")
}

/// The consistency check after load: its verdict, line, findings and what it could not check.
fn consistency_section(body: &mut String, c: &ConsistencyCheck) {
    let _ = write!(
        body,
        r#"<h2>Consistency after load</h2><section class="constraint" id="consistency"><p>{} {}</p>"#,
        badge(c.verdict.map_or("-", Verdict::as_str)),
        escape(&c.summary)
    );
    let items: Vec<String> = c
        .findings
        .iter()
        .map(|f| format!("<b>{}</b>: {}", escape(&f.request), escape(&f.problem)))
        .chain(
            c.unchecked
                .iter()
                .map(|u| format!("not checked: {}", escape(u))),
        )
        .collect();
    if !items.is_empty() {
        body.push_str("<ul>");
        for item in items {
            let _ = write!(body, "<li>{item}</li>");
        }
        body.push_str("</ul>");
    }
    body.push_str("</section>");
}

fn constraint_section(body: &mut String, c: &ConstraintVerdict) {
    let id = c.constraint_id.as_str();
    let _ = write!(
        body,
        r#"<section class="constraint" id="{}"><h3>{} {}</h3><p><small>{}</small></p><p>{}</p>"#,
        escape(id),
        badge(c.verdict.as_str()),
        escape(&c.name),
        escape(id),
        escape(&c.summary)
    );
    let list = |body: &mut String, items: Vec<String>| {
        if !items.is_empty() {
            body.push_str("<ul>");
            for item in items {
                let _ = write!(body, "<li>{item}</li>");
            }
            body.push_str("</ul>");
        }
    };
    list(body, c.notes.iter().map(|note| escape(note)).collect());
    list(
        body,
        c.findings
            .iter()
            .map(|f| format!("<b>{}</b>: {}", escape(&f.request), escape(&f.problem)))
            .collect(),
    );
    let Some(m) = c.measured.as_ref().filter(|m| !m.curve.is_empty()) else {
        body.push_str("</section>");
        return;
    };
    let title = format!("{} — latency by percentile", c.name);
    body.push_str(&percentile_curve(
        &m.curve,
        c.latency_limit.map(|l| (l.percentile, l.max_ms)),
        &title,
    ));
    let l = &m.latency_ms;
    let _ = write!(
        body,
        "<p class=\"figures\">{} requests at {:.0} req/s achieved{}; p50 {:.1} ms · p90 {:.1} ms · p95 {:.1} ms · p99 {:.1} ms · max {:.1} ms</p>",
        m.requests,
        m.achieved_rate,
        m.target_rate
            .map(|t| format!(" (target {t:.0})"))
            .unwrap_or_default(),
        l.p50,
        l.p90,
        l.p95,
        l.p99,
        l.max,
    );
    body.push_str("</section>");
}

/// Both monitoring sections, "Scenario health" and "Constraint console". They never fail the
/// report: without a metric store each says there is no monitoring data, and a source that
/// cannot be read (an unreachable Prometheus) is said in the section it leaves empty.
async fn monitoring_sections(root: &Path) -> String {
    let no_data = |why: &str| {
        let note = format!("<p class=\"note\">{}</p>", escape(why));
        format!("<h2>Scenario health</h2>{note}<h2>Constraint console</h2>{note}")
    };
    let prometheus = sdd_spec::project::load_project_file(root)
        .ok()
        .is_some_and(|file| file.monitoring.source.prometheus.is_some());
    if !prometheus && !root.join(sdd_metrics::store::METRICS_FILE).exists() {
        return no_data(
            "no monitoring data: run `sdd monitor` (or `sdd metrics import FILE`) to fill .sdd/metrics.sqlite3",
        );
    }
    let monitoring = match Monitoring::open(root, None).await {
        Ok(m) => m,
        Err(e) => return no_data(&format!("monitoring data could not be read: {e}")),
    };
    let unread = |e: String| {
        format!(
            "<p class=\"note\">monitoring data could not be read: {}</p>",
            escape(&e)
        )
    };
    let mut out = String::from("<h2>Scenario health</h2>");
    match monitoring.health().await {
        Ok((health, _)) => out.push_str(&health_section(&health)),
        Err(e) => out.push_str(&unread(e)),
    }
    out.push_str("<h2>Constraint console</h2>");
    match monitoring.headroom().await {
        Ok((headroom, _)) => {
            let measures = measures(root);
            let trends = trends(&monitoring, &headroom, &measures).await;
            let outlook = monitoring.outlook().await;
            out.push_str(&console_section(&headroom, &measures, &trends, &outlook));
        }
        Err(e) => out.push_str(&unread(e)),
    }
    monitoring.close().await;
    out
}

fn health_badge(status: Health) -> String {
    badge(status.word())
}

fn health_section(h: &HealthAnswer) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<p class=\"headline\">{}</p><p class=\"note\">the last {} to {} · the service's outcome counts from {} · journeys from {}</p>",
        escape(&h.headline),
        escape(&h.window),
        escape(&h.at),
        escape(&h.source),
        escape(&h.journeys_source)
    );
    if !h.scenarios.is_empty() {
        out.push_str("<table class=\"health\"><tr><th>scenario</th><th>health</th><th>service</th><th>journeys</th><th>detail</th></tr>");
        for s in &h.scenarios {
            let p95 = s
                .journeys
                .as_ref()
                .and_then(|j| j.p95_ms)
                .map(|p| format!("<br><small>p95 {p:.0} ms</small>"))
                .unwrap_or_default();
            let detail = scenario_detail(s);
            let _ = write!(
                out,
                "<tr><td><b>{}</b><br><small>{}</small></td><td>{}</td><td class=\"nw\">{}</td><td class=\"nw\">{}{p95}</td><td>{}</td></tr>",
                escape(&s.name),
                escape(&s.scenario),
                health_badge(s.status),
                escape(&service_text(s.service.as_ref())),
                escape(&journeys_text(s.journeys.as_ref())),
                if s.last_failure.is_some() {
                    format!("<div class=\"detail\">{}</div>", escape(&detail))
                } else {
                    escape(&detail)
                }
            );
        }
        out.push_str("</table>");
    }
    for note in &h.notes {
        let _ = write!(out, "<p class=\"note\">{}</p>", escape(note));
    }
    if !h.unknown_scenarios.is_empty() {
        let _ = write!(
            out,
            "<p class=\"note\">the service counts outcomes for IDs that are no approved scenario: {}</p>",
            escape(&h.unknown_scenarios.join(", "))
        );
    }
    out
}

/// A constraint's measure over the window, one value per step that had requests.
struct Trend {
    points: Vec<(i64, f64)>,
    /// What the line is, for its tooltip: `p95 latency per step (ms)`.
    what: String,
    /// Whether the axis starts at 0 (latency, rates) or fits the values (percentages).
    zero_based: bool,
}

/// The window the trends cover: its start, end and step (ms).
struct Span {
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    points: usize,
}

impl Span {
    fn of(headroom: &HeadroomAnswer) -> Option<Span> {
        let end_ms = chrono::DateTime::parse_from_rfc3339(&headroom.at)
            .ok()?
            .timestamp_millis();
        let window_ms = sdd_monitoring::window::parse_duration(&headroom.window).ok()?;
        let points = (window_ms / TREND_SHORTEST_STEP_MS).clamp(2, TREND_POINTS);
        Some(Span {
            start_ms: end_ms - window_ms,
            end_ms,
            step_ms: window_ms / points,
            points: points as usize,
        })
    }
}

/// The request histogram's selector renamed to one of its series: `h{…}` → `h_bucket{…}`.
fn renamed(selector: &str, suffix: &str) -> String {
    match selector.find('{') {
        Some(i) => format!("{}{suffix}{}", &selector[..i], &selector[i..]),
        None => format!("{selector}{suffix}"),
    }
}

/// A counter's increase from each step to the next, at the later step with the time between
/// them; a counter that went down was reset, and its increase is its new value.
fn increases(steps: &[(i64, f64)]) -> Vec<(i64, f64, i64)> {
    steps
        .windows(2)
        .filter(|w| w[0].1.is_finite() && w[1].1.is_finite() && w[1].0 > w[0].0)
        .map(|w| {
            let (prev, now) = (w[0], w[1]);
            let increase = if now.1 >= prev.1 {
                now.1 - prev.1
            } else {
                now.1
            };
            (now.0, increase, now.0 - prev.0)
        })
        .collect()
}

/// The `q` quantile per step, in ms, from the increase of each bucket series (their `le`
/// label) between steps: `histogram_quantile(q, sum by (le) (increase(…[step])))`. Steps
/// without requests have no value.
fn quantile_steps(q: f64, buckets: &[SeriesSteps]) -> Vec<(i64, f64)> {
    let mut by_step: std::collections::BTreeMap<i64, Vec<Bucket>> = Default::default();
    for series in buckets {
        let Some(bound) = series.labels.get("le").and_then(|le| match le.as_str() {
            "+Inf" => Some(f64::INFINITY),
            other => other.parse::<f64>().ok(),
        }) else {
            continue;
        };
        for (at, increase, _) in increases(&series.steps) {
            by_step.entry(at).or_default().push(Bucket {
                upper_bound: bound,
                count: increase,
            });
        }
    }
    by_step
        .into_iter()
        .filter_map(|(at, buckets)| {
            let seconds = histogram_quantile(q, &buckets);
            seconds.is_finite().then_some((at, seconds * 1000.0))
        })
        .collect()
}

/// Per step, the share (%) of requests whose `status` label `failed` says failed; with
/// `succeeded` the share of the others. Steps without requests have no value.
fn ratio_steps(
    counts: &[SeriesSteps],
    failed: impl Fn(&str) -> bool,
    succeeded: bool,
) -> Vec<(i64, f64)> {
    let mut by_step: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
    for series in counts {
        let bad = failed(series.labels.get("status").map_or("", String::as_str));
        for (at, increase, _) in increases(&series.steps) {
            let entry = by_step.entry(at).or_default();
            entry.0 += increase;
            if bad {
                entry.1 += increase;
            }
        }
    }
    by_step
        .into_iter()
        .filter(|(_, (total, _))| *total > 0.0)
        .map(|(at, (total, bad))| {
            let share = 100.0 * bad / total;
            (at, if succeeded { 100.0 - share } else { share })
        })
        .collect()
}

/// Requests per second per step, over every series.
fn rate_steps(counts: &[SeriesSteps]) -> Vec<(i64, f64)> {
    let mut by_step: std::collections::BTreeMap<i64, f64> = Default::default();
    for series in counts {
        for (at, increase, gap_ms) in increases(&series.steps) {
            *by_step.entry(at).or_default() += increase / (gap_ms as f64 / 1000.0);
        }
    }
    by_step.into_iter().collect()
}

/// A 5xx, or a 4xx the error-rate constraint counts.
fn counted_failure(status: &str, counted_4xx: &[u16]) -> bool {
    status.starts_with('5')
        || status
            .parse::<u16>()
            .is_ok_and(|code| counted_4xx.contains(&code))
}

/// The trend of every constraint measured on metrics, by ID; a failed query is said in its
/// row, never the report's failure.
async fn trends(
    monitoring: &Monitoring,
    headroom: &HeadroomAnswer,
    measures: &HashMap<String, Measure>,
) -> HashMap<String, Result<Trend, String>> {
    let mut out = HashMap::new();
    let Some(span) = Span::of(headroom) else {
        return out;
    };
    let measured: Vec<&ConstraintHeadroom> = headroom
        .constraints
        .iter()
        .filter(|c| c.status != Verdict::Unchecked && !c.measured_by.is_empty())
        .collect();
    if measured.is_empty() {
        return out;
    }
    let series = match monitoring.constraint_series().await {
        Ok(series) => series,
        Err(e) => {
            for c in measured {
                out.insert(c.constraint.clone(), Err(e.clone()));
            }
            return out;
        }
    };
    for c in measured {
        let Some(selectors) = series.get(&c.constraint) else {
            continue;
        };
        let trend = trend_of(monitoring, selectors, measures.get(&c.constraint), &span).await;
        out.insert(c.constraint.clone(), trend);
    }
    out
}

async fn trend_of(
    monitoring: &Monitoring,
    selectors: &[String],
    measure: Option<&Measure>,
    span: &Span,
) -> Result<Trend, String> {
    let suffix = match measure {
        Some(Measure::Latency { .. }) => "_bucket",
        _ => "_count",
    };
    let mut all = Vec::new();
    for selector in selectors {
        all.extend(
            monitoring
                .steps(&renamed(selector, suffix), span.points)
                .await?,
        );
    }
    Ok(match measure {
        Some(Measure::Latency { percentile }) => Trend {
            points: quantile_steps(percentile / 100.0, &all),
            what: format!(
                "{} latency per step (ms)",
                sdd_spec::verdict::format_percentile(*percentile)
            ),
            zero_based: true,
        },
        Some(Measure::Availability) => Trend {
            points: ratio_steps(&all, |s| counted_failure(s, &[]), true),
            what: "% of requests answered without a 5xx, per step".into(),
            zero_based: false,
        },
        Some(Measure::ErrorRate { counted_4xx }) => Trend {
            points: ratio_steps(&all, |s| counted_failure(s, counted_4xx), false),
            what: "% of requests failed (5xx and the 4xx the constraint counts), per step".into(),
            zero_based: false,
        },
        None => Trend {
            points: rate_steps(&all),
            what: "requests per second, per step".into(),
            zero_based: true,
        },
    })
}

fn format_step(ms: i64) -> String {
    sdd_monitoring::window::format_duration(ms)
}

/// Where a constraint's trend takes it: `crosses in 12–40 days` and, under it, the verdict
/// at each horizon (`7d holds · 30d may violate · 90d violated`).
fn time_to_violation(outlook: &Outlook) -> String {
    let t = &outlook.time_to_violation;
    let horizons: Vec<String> = t
        .horizons
        .iter()
        .map(|h| format!("{}d {}", h.days, h.status))
        .collect();
    if horizons.is_empty() {
        return escape(&t.summary);
    }
    format!(
        "{}<br><small>{}</small>",
        escape(&t.summary),
        escape(&horizons.join(" · "))
    )
}

/// Each constraint's outlook, by constraint ID (a limit of monitoring.degradation.limits has
/// none: the console lists constraints).
fn outlooks(outlook: &Result<DegradationResult, String>) -> HashMap<&str, &Outlook> {
    match outlook {
        Ok(answer) => answer
            .report
            .outlook
            .iter()
            .filter_map(|o| Some((o.constraint.as_deref()?, o)))
            .collect(),
        Err(_) => HashMap::new(),
    }
}

/// What the time-to-violation column rests on, or why it is empty.
fn outlook_note(outlook: &Result<DegradationResult, String>) -> String {
    match outlook {
        Ok(answer) => format!(
            "<p class=\"note\">Time to violation: where the trend of each constraint's measure over the last {} (to {}, {}) takes it, with the slope's interval, at 7, 30 and 90 days (detect_degradation). The hunt: {}</p>",
            escape(&answer.window.window),
            escape(&answer.window.at),
            escape(&answer.source),
            escape(&answer.report.headline)
        ),
        Err(e) => format!(
            "<p class=\"note\">No time to violation: detect_degradation could not answer: {}</p>",
            escape(e)
        ),
    }
}

fn console_section(
    h: &HeadroomAnswer,
    measures: &HashMap<String, Measure>,
    trends: &HashMap<String, Result<Trend, String>>,
    outlook: &Result<DegradationResult, String>,
) -> String {
    let by_constraint = outlooks(outlook);
    let mut out = String::new();
    let _ = write!(
        out,
        "<p class=\"headline\">{}</p><p class=\"note\">the last {} to {} · {}</p>",
        escape(&h.headline),
        escape(&h.window),
        escape(&h.at),
        escape(&h.source)
    );
    let span = Span::of(h);
    let (measured, unmeasured): (Vec<_>, Vec<_>) = h
        .constraints
        .iter()
        .partition(|c| c.status != Verdict::Unchecked);
    if !measured.is_empty() {
        out.push_str("<table class=\"console\"><tr><th>constraint</th><th>status</th><th>value</th><th>limit</th><th>headroom</th><th>error budget</th><th>trend</th><th>time to violation</th></tr>");
        for c in &measured {
            let measure = measures.get(&c.constraint);
            let line = match (trends.get(&c.constraint), &span) {
                (Some(Ok(trend)), Some(span)) if !trend.points.is_empty() => {
                    // A limit is drawn only on a line in its own unit.
                    let limit = measure.and(c.limit);
                    let title = format!(
                        "{} — {} over the last {}{}",
                        c.name,
                        trend.what,
                        h.window,
                        limit
                            .map(|_| format!("; dashed: the limit, {}", limit_text(c, measure)))
                            .unwrap_or_default()
                    );
                    sparkline(
                        &trend.points,
                        (span.start_ms, span.end_ms),
                        limit,
                        trend.zero_based,
                        &title,
                    )
                }
                (Some(Ok(_)), _) => "<small>no requests in the window</small>".into(),
                (Some(Err(e)), _) => {
                    format!("<small>no trend: {}</small>", escape(e))
                }
                (None, _) => String::new(),
            };
            let _ = write!(
                out,
                "<tr><td><b>{}</b><br><small>{}</small>{}</td><td>{}</td><td class=\"nw\" title=\"{}\">{}</td><td class=\"nw\">{}</td><td class=\"num nw\">{}</td><td>{}</td><td>{line}</td><td>{}</td></tr>",
                escape(&c.name),
                escape(&c.constraint),
                if c.status == Verdict::Passing {
                    String::new()
                } else {
                    format!("<div class=\"detail\">{}</div>", escape(&c.summary))
                },
                badge(c.status.as_str()),
                // The PromQL behind the number, on hover.
                escape(
                    &c.measured_by
                        .iter()
                        .map(|m| format!("{} (over {})", m.query, m.window))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                escape(&value_text(c, measure)),
                escape(&limit_text(c, measure)),
                escape(&headroom_text(c)),
                escape(&budget_text(c)),
                match by_constraint.get(c.constraint.as_str()) {
                    Some(outlook) => time_to_violation(outlook),
                    None => "<small>no outlook (see below)</small>".into(),
                },
            );
        }
        out.push_str("</table>");
        out.push_str(&outlook_note(outlook));
        if let Some(span) = &span {
            let _ = write!(
                out,
                "<p class=\"note\">Trend: each line is the constraint's own measure over the last {} in steps of {}, from the service's request-duration histogram on the series the constraint is measured by: for a latency limit its percentile per step (from the buckets' increase in the step, linear inside a bucket, as histogram_quantile); for availability the share of requests answered without a 5xx; for an error rate the share failed. Dashed: the limit. A gap: no requests in that step. Hover a line for what it is.</p>",
                escape(&h.window),
                format_step(span.step_ms)
            );
        }
    }
    if !unmeasured.is_empty() {
        let _ = write!(
            out,
            "<h3>Not measured from metrics ({})</h3><table><tr><th>constraint</th><th>why</th></tr>",
            unmeasured.len()
        );
        for c in &unmeasured {
            let _ = write!(
                out,
                "<tr><td><b>{}</b><br><small>{}</small></td><td title=\"{}\">{}</td></tr>",
                escape(&c.name),
                escape(&c.constraint),
                escape(&c.summary),
                escape(&short_reason(&c.summary))
            );
        }
        out.push_str("</table>");
    }
    out
}

/// One status grid per run kind: subjects over the last runs.
fn trend(history: &History) -> String {
    let mut out = String::new();
    for (kind, what) in [
        (RunKind::Tests, "Test runs: scenario verdicts"),
        (RunKind::Checks, "Executable examples"),
        (RunKind::Constraints, "Constraint verifications"),
    ] {
        let mut runs = match history.runs(&HistoryQuery {
            kind: Some(kind),
            subject: None,
            limit: TREND_RUNS,
        }) {
            Ok(runs) => runs,
            Err(e) => {
                let _ = write!(out, "<p class=\"note\">{}</p>", escape(&e.to_string()));
                continue;
            }
        };
        if runs.is_empty() {
            continue;
        }
        runs.sort_by_key(|r| r.id);
        // A run that cannot be read (a status this sdd does not know) is said, not shown as a
        // column without results.
        let results = match runs
            .iter()
            .map(|r| history.results(r.id))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(results) => results,
            Err(e) => {
                let _ = write!(out, "<p class=\"note\">{}</p>", escape(&e.to_string()));
                continue;
            }
        };
        let mut subjects: Vec<String> = Vec::new();
        for r in &results {
            for subject in r.keys() {
                if !subjects.contains(subject) {
                    subjects.push(subject.clone());
                }
            }
        }
        let cells: Vec<Vec<Option<Cell>>> = subjects
            .iter()
            .map(|subject| {
                runs.iter()
                    .zip(&results)
                    .map(|(run, r)| {
                        r.get(subject).map(|result| Cell {
                            status: result.status.as_str().into(),
                            tooltip: format!(
                                "run #{} {} ({}): {}{}",
                                run.id,
                                run.label,
                                run.started_at,
                                result.status,
                                result
                                    .detail
                                    .as_deref()
                                    .map(|d| format!(" — {d}"))
                                    .unwrap_or_default()
                            ),
                        })
                    })
                    .collect()
            })
            .collect();
        let labels: Vec<String> = runs.iter().map(|r| format!("#{}", r.id)).collect();
        let _ = write!(out, "<h3>{what}</h3>");
        out.push_str(&status_grid(&subjects, &labels, &cells, what));
    }
    if out.is_empty() {
        out.push_str("<p class=\"note\">No runs recorded yet.</p>");
    }
    out.push_str("<p class=\"legend\">");
    for status in ["passing", "failing", "inconclusive", "skipped", "unchecked"] {
        let _ = write!(out, "{} ", badge(status));
    }
    out.push_str("— hover a cell for the run and its detail.</p>");
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:0 auto;padding:0 20px 40px;color:#1f2328}\
header{margin:20px 0;padding:14px 20px;border-radius:8px;color:#fff}header.ok{background:#2da44e}header.failed{background:#cf222e}header.partial{background:#9a6700}\
header h1{margin:0;font-size:26px}.glance{font-size:16px;font-weight:600}.none{color:#8c959f}header p{margin:4px 0 0}\
h2{margin-top:32px;border-bottom:1px solid #d0d7de;padding-bottom:4px}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}\
td.num{text-align:right}td.nw{white-space:nowrap}small{color:#656d76}.detail{color:#cf222e;font-size:12px;margin-top:2px}\
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;white-space:nowrap}\
section.constraint{border:1px solid #d0d7de;border-radius:8px;padding:4px 16px 12px;margin:12px 0}\
section.constraint h3{margin:10px 0 0}section.operations{margin-top:48px;border-top:4px solid #1f2328}section.operations h1{font-size:24px;margin:16px 0 0}\
section.incident{border:1px solid #d0d7de;border-radius:8px;padding:4px 16px 8px;margin:12px 0}section.incident h3{margin:10px 0 0}ol.hypotheses{margin:4px 0}.figures{color:#444;font-size:13px}.note,.legend{color:#656d76}\
svg.plot{display:block;max-width:100%;height:auto;margin:8px 0}svg.spark{display:block}\
.headline{font-size:15px;font-weight:600;margin:8px 0 2px}footer{margin-top:40px;color:#8c959f;font-size:12px}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::ScenarioRow;

    fn row(review: &str, verdict: &str) -> ScenarioRow {
        ScenarioRow {
            id: "d.s".into(),
            name: "s".into(),
            review: review.into(),
            tests: "-".into(),
            examples: "-".into(),
            verdict: verdict.into(),
            detail: None,
        }
    }

    #[test]
    fn the_glance_line_counts_scenarios_constraints_and_proposals() {
        let v = Verification {
            project: "p".into(),
            started_at: "t".into(),
            duration_seconds: 1.0,
            ok: false,
            overall: Some(Overall::Failed),
            headline: String::new(),
            not_verified: Vec::new(),
            steps: Vec::new(),
            scenarios: vec![
                row("approved", "passing"),
                row("approved", "failing"),
                row("proposed", "proposed, not verified"),
            ],
            constraints: [Verdict::Passing, Verdict::Failing, Verdict::Passing]
                .into_iter()
                .map(|verdict| ConstraintVerdict::new("c", "C", verdict, ""))
                .collect(),
            consistency: None,
        };
        assert_eq!(
            at_a_glance(&v),
            "1 of 2 approved scenarios passing · constraints: 2 passing, 1 failing · 1 proposal(s) awaiting review (`sdd review`)"
        );
    }

    /// A copy of the history the previous sdd wrote: three verifications of the example.
    fn v1_history() -> (tempfile::TempDir, History) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(sdd_history::HISTORY_FILE);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../sdd-history/tests/data/history-v1.sqlite3"
            ),
            &path,
        )
        .unwrap();
        let history = History::open(dir.path()).unwrap();
        (dir, history)
    }

    #[test]
    fn the_trend_draws_every_kind_of_run_from_the_history() {
        let (_dir, history) = v1_history();
        let html = trend(&history);
        for what in [
            "Test runs: scenario verdicts",
            "Executable examples",
            "Constraint verifications",
        ] {
            assert!(html.contains(&format!("<h3>{what}</h3>")), "{what}");
        }
        // Run 4's failure, with its detail, in the colour of failing.
        assert!(
            html.contains(
                "run #4 rust (2026-12-01T02:23:26Z): failing — assertion `left == right` failed"
            ),
            "{html}"
        );
        assert!(html.contains(&format!("fill=\"{}\"", status_color("inconclusive"))));
        assert!(!html.contains("class=\"note\""), "{html}");
    }

    #[test]
    fn a_status_the_history_does_not_know_is_said_in_the_trend() {
        let (dir, history) = v1_history();
        // As a newer sdd might have written it.
        rusqlite::Connection::open(dir.path().join(sdd_history::HISTORY_FILE))
            .unwrap()
            .execute("UPDATE results SET status = 'flaky' WHERE run_id = 5", [])
            .unwrap();
        let html = trend(&history);
        assert!(html.contains("<h3>Test runs: scenario verdicts</h3>"));
        assert!(!html.contains("<h3>Executable examples</h3>"), "{html}");
        assert!(html.contains("the status `flaky`"), "{html}");
    }

    #[test]
    fn a_constraint_section_shows_its_findings_plot_and_figures() {
        let verdict: ConstraintVerdict =
            serde_json::from_value(crate::verify::tests::measured_verdict()).unwrap();
        let mut body = String::new();
        constraint_section(&mut body, &verdict);
        for part in [
            r#"<section class="constraint" id="tasks.performance.read_latency">"#,
            "Read latency",
            "<li>rate lowered to 300 req/s</li>",
            "<li><b>GET /tasks</b>: 500</li>",
            "limit: p95 &lt; 100 ms",
            "2995 requests at 300 req/s achieved (target 300); p50 20.1 ms · p90 41.0 ms · p95 140.2 ms · p99 210.7 ms · max 230.5 ms",
        ] {
            assert!(body.contains(part), "{part}\n{body}");
        }
        assert!(body.ends_with("</section>"));
        // Without measurements (no `details`): no plot, no figures.
        let mut bare = verdict;
        bare.measured = None;
        let mut body = String::new();
        constraint_section(&mut body, &bare);
        assert!(
            !body.contains("<svg") && !body.contains("figures"),
            "{body}"
        );
        assert!(body.ends_with("</section>"));
    }

    #[test]
    fn the_consistency_section_names_what_was_lost_and_what_was_not_checked() {
        let mut check = ConsistencyCheck::no_load();
        check.verdict = Some(Verdict::Failing);
        check.summary = "1 finding(s)".into();
        check.findings.push(sdd_verify::probes::Finding {
            request: "GET /tasks/9 (created by POST /tasks)".into(),
            problem: "answered 404 <gone>".into(),
        });
        check.unchecked.push("2 rate limited".into());
        let mut body = String::new();
        consistency_section(&mut body, &check);
        for part in [
            "<h2>Consistency after load</h2>",
            "1 finding(s)",
            "<li><b>GET /tasks/9 (created by POST /tasks)</b>: answered 404 &lt;gone&gt;</li>",
            "<li>not checked: 2 rate limited</li>",
        ] {
            assert!(body.contains(part), "{part}\n{body}");
        }
        assert!(body.ends_with("</section>"));
    }

    fn series(labels: &[(&str, &str)], steps: &[(i64, f64)]) -> SeriesSteps {
        SeriesSteps {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            steps: steps.to_vec(),
        }
    }

    #[test]
    fn a_counter_increases_between_steps_and_a_reset_starts_again() {
        assert_eq!(
            increases(&[(0, 10.0), (60, 15.0), (120, 3.0), (240, 4.0)]),
            [(60, 5.0, 60), (120, 3.0, 60), (240, 1.0, 120)]
        );
    }

    #[test]
    fn the_percentile_per_step_comes_from_the_buckets_increase() {
        let m = 60_000;
        let buckets = [
            series(
                &[("le", "0.1")],
                &[(0, 0.0), (m, 10.0), (2 * m, 10.0), (3 * m, 10.0)],
            ),
            series(
                &[("le", "0.2")],
                &[(0, 0.0), (m, 10.0), (2 * m, 20.0), (3 * m, 20.0)],
            ),
            series(
                &[("le", "+Inf")],
                &[(0, 0.0), (m, 10.0), (2 * m, 20.0), (3 * m, 20.0)],
            ),
        ];
        let steps: Vec<(i64, f64)> = quantile_steps(0.5, &buckets)
            .into_iter()
            .map(|(at, ms)| (at, (ms * 1e6).round() / 1e6))
            .collect();
        // The first minute's 10 requests were at most 0.1 s, the second's in (0.1, 0.2]; the
        // third minute had none: no value, a gap.
        assert_eq!(steps, [(m, 50.0), (2 * m, 150.0)]);
    }

    #[test]
    fn ratios_per_step_count_the_failures_the_constraint_counts() {
        let m = 60_000;
        let counts = [
            series(&[("status", "200")], &[(0, 0.0), (m, 90.0), (2 * m, 180.0)]),
            series(&[("status", "503")], &[(0, 0.0), (m, 10.0), (2 * m, 10.0)]),
            series(&[("status", "429")], &[(0, 0.0), (m, 0.0), (2 * m, 10.0)]),
        ];
        let availability = ratio_steps(&counts, |s| counted_failure(s, &[]), true);
        assert_eq!(availability, [(m, 90.0), (2 * m, 100.0)]);
        let errors = ratio_steps(&counts, |s| counted_failure(s, &[429]), false);
        assert_eq!(errors, [(m, 10.0), (2 * m, 10.0)]);
        let rate = rate_steps(&counts);
        assert_eq!(rate, [(m, 100.0 / 60.0), (2 * m, 100.0 / 60.0)]);
        assert_eq!(
            renamed("h{route=~\"/a|/b\"}", "_bucket"),
            "h_bucket{route=~\"/a|/b\"}"
        );
        assert_eq!(renamed("h", "_count"), "h_count");
    }

    #[test]
    fn time_to_violation_reads_the_outlook_of_each_constraint() {
        use sdd_monitoring::degradation::analyze::{Horizon, TimeToViolation, Verdict as Trend};
        let outlook = |constraint: Option<&str>, summary: &str, horizons: &[(u32, &str)]| Outlook {
            series: "s".into(),
            constraint: constraint.map(Into::into),
            verdict: Trend::NoTrend,
            summary: String::new(),
            percent_per_week: None,
            time_to_violation: TimeToViolation {
                bound: "max".into(),
                limit: 100.0,
                now: 50.0,
                summary: summary.into(),
                days_earliest: None,
                days_latest: None,
                horizons: horizons
                    .iter()
                    .map(|(days, status)| Horizon {
                        days: *days,
                        low: 0.0,
                        high: 0.0,
                        status: status.to_string(),
                    })
                    .collect(),
            },
        };
        let climbing = outlook(
            Some("a.latency"),
            "crosses in 12–40 days",
            &[(7, "holds"), (30, "may violate"), (90, "violated")],
        );
        assert_eq!(
            time_to_violation(&climbing),
            "crosses in 12–40 days<br><small>7d holds · 30d may violate · 90d violated</small>"
        );
        assert_eq!(
            time_to_violation(&outlook(None, "not on this trend <flat>", &[])),
            "not on this trend &lt;flat&gt;"
        );
        // Only constraints are in the console: a limit of degradation.limits has no row.
        let mut report: sdd_monitoring::degradation::report::DegradationReport =
            serde_json::from_value(serde_json::json!({
                "headline": "h", "method": "m", "step": "1m", "significance": 0.01,
                "thresholds": "t", "counts": {"judged": 0, "degrading": 0, "follows_driver": 0,
                "below_threshold": 0, "improving": 0, "no_trend": 0, "not_judged": 0},
                "findings": [], "more": ""
            }))
            .unwrap();
        report.outlook = vec![climbing, outlook(None, "limit", &[])];
        let answer: Result<DegradationResult, String> = Ok(DegradationResult {
            source: "store".into(),
            window: serde_json::from_value(serde_json::json!({"window": "30d", "at": "t"}))
                .unwrap(),
            report,
        });
        let by = outlooks(&answer);
        assert_eq!(by.keys().copied().collect::<Vec<_>>(), ["a.latency"]);
        assert!(outlook_note(&answer).contains("over the last 30d (to t, store)"));
        let failed: Result<DegradationResult, String> = Err("unreachable <x>".into());
        assert!(outlooks(&failed).is_empty());
        assert!(outlook_note(&failed).contains(
            "No time to violation: detect_degradation could not answer: unreachable &lt;x&gt;"
        ));
    }

    #[test]
    fn the_report_stays_inside_the_project() {
        let root = std::env::current_dir().unwrap();
        assert_eq!(
            output_path(&root, None).unwrap(),
            root.join(".sdd/report.html")
        );
        assert!(output_path(&root, Some(Path::new("../x.html"))).is_err());
        assert!(output_path(&root, Some(Path::new("/elsewhere/x.html"))).is_err());
        assert_eq!(
            output_path(&root, Some(Path::new("out/r.html"))).unwrap(),
            root.join("out/r.html")
        );
    }
}

//! Runbooks for a scenario or a constraint, written from the spec and the incidents recorded
//! for it: how it is detected (the generated alerts and their queries), how to verify it (the
//! tools to call and what healthy looks like), likely causes, remediation, escalation.
//!
//! Invariant: every statement cites where it comes from — a spec element (`spec: file:line`),
//! `sdd.yaml`, a generated rule, or a recorded incident (`incident #N`). What neither the spec
//! nor an incident says is not written; where a section has nothing to stand on, it says so
//! and says what would fill it. The words are the spec's: "Complete a task failing", never
//! the implementation's. Pure: the caller loads the spec, generates the rules and reads the
//! incidents.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_history::incidents::IncidentRecord;
use sdd_monitoring::rules::{AlertRules, RuleKind};
use sdd_spec::document::ReviewStatus;
use sdd_spec::model::{Constraint, ConstraintScope, Scenario, Spec};
use sdd_spec::project::ProjectFile;

/// At most this many incidents are cited in one runbook (the newest).
pub const MAX_INCIDENTS: usize = 10;

/// What a runbook is about.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    Scenario(&'a Scenario),
    Constraint(&'a Constraint),
}

impl<'a> Subject<'a> {
    /// The scenario or constraint `id` names.
    pub fn find(spec: &'a Spec, id: &str) -> Option<Subject<'a>> {
        spec.scenario(id)
            .map(Subject::Scenario)
            .or_else(|| spec.constraint(id).map(Subject::Constraint))
    }

    pub fn id(&self) -> &str {
        match self {
            Subject::Scenario(s) => &s.id,
            Subject::Constraint(c) => &c.id,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Scenario(_) => "scenario",
            Subject::Constraint(_) => "constraint",
        }
    }

    /// The runbook's title in the spec's words.
    pub fn title(&self) -> String {
        match self {
            Subject::Scenario(s) => format!("{} failing", s.name),
            Subject::Constraint(c) => format!("{} at risk", c.name),
        }
    }

    /// The domain the subject belongs to (none for a global constraint).
    fn domain(&self) -> Option<&str> {
        match self {
            Subject::Scenario(s) => Some(&s.domain),
            Subject::Constraint(c) => match &c.scope {
                ConstraintScope::Domain(d) => Some(d),
                ConstraintScope::Global(_) | ConstraintScope::Interaction(_) => None,
            },
        }
    }
}

/// A runbook and what it stands on.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Runbook {
    pub subject: String,
    /// `scenario` or `constraint`.
    pub kind: String,
    pub title: String,
    pub markdown: String,
    /// Every source cited, once each (`spec: file:line`, `incident #3`, `rule SddErrorBudgetBurn1h`).
    pub cites: Vec<String>,
    /// Sections the spec and the incidents say nothing for, and what would fill them.
    pub gaps: Vec<String>,
    /// Incidents cited (the newest [`MAX_INCIDENTS`] of those touching the subject).
    pub incidents_cited: usize,
}

/// What a runbook is written from.
pub struct RunbookInput<'a> {
    pub spec: &'a Spec,
    pub project: &'a ProjectFile,
    /// The rules `generate_alert_rules` gives for the whole spec.
    pub rules: &'a AlertRules,
    /// Incidents touching the subject, newest first.
    pub incidents: &'a [IncidentRecord],
}

/// The Markdown being written and the sources it cites.
struct Writer {
    text: String,
    cites: BTreeSet<String>,
    gaps: Vec<String>,
}

impl Writer {
    fn line(&mut self, text: &str) {
        self.text.push_str(text);
        self.text.push('\n');
    }

    /// A statement and where it comes from.
    fn cited(&mut self, text: &str, source: &str) {
        self.cites.insert(source.to_string());
        self.line(&format!("{text} [{source}]"));
    }

    fn gap(&mut self, section: &str, text: &str) {
        self.gaps.push(format!("{section}: {text}"));
        self.line(&format!("- _{text}_"));
    }
}

fn spec_at(location: &sdd_spec::diagnostic::Location) -> String {
    format!("spec: {}:{}", location.file, location.line)
}

/// Free text from an incident record (its title, cause, resolution: whatever an agent or a
/// person typed) as one line of plain Markdown text: every run of white space (a newline, a
/// line or paragraph separator) one space, and what Markdown or HTML would read as structure
/// escaped with a backslash — so it can neither start a heading or a list, nor open raw HTML
/// or a comment that hides the rest of the runbook, nor leave a line uncited.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (n, word) in text.split_whitespace().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        for (i, c) in word.chars().enumerate() {
            let structure = matches!(
                c,
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~'
            ) || (n == 0 && i == 0 && matches!(c, '-' | '+' | '='));
            if structure {
                out.push('\\');
            }
            out.push(c);
        }
        // `1.` or `1)` opening the text would start a list inside the list item.
        if n == 0 && word.len() > 1 && word[..word.len() - 1].bytes().all(|b| b.is_ascii_digit()) {
            let last = out.pop();
            if let Some(mark @ ('.' | ')')) = last {
                out.push('\\');
                out.push(mark);
            } else if let Some(c) = last {
                out.push(c);
            }
        }
    }
    out
}

fn incident_cite(i: &IncidentRecord) -> String {
    format!("incident #{}", i.id)
}

/// The constraints that hold where the scenario runs: global ones, its domain's, and those of
/// the interactions its domain takes part in.
pub fn constraints_touching<'a>(spec: &'a Spec, domain: &str) -> Vec<&'a Constraint> {
    spec.constraints
        .iter()
        .map(|c| &**c)
        .filter(|c| match &c.scope {
            ConstraintScope::Global(_) => true,
            ConstraintScope::Domain(d) => d == domain,
            ConstraintScope::Interaction(name) => spec
                .interactions
                .iter()
                .any(|i| &i.name == name && i.participants.iter().any(|p| p == domain)),
        })
        .collect()
}

/// The approved scenarios a constraint holds over: every one for a global constraint, its
/// domain's (or its interaction's participants') otherwise.
fn scenarios_under<'a>(spec: &'a Spec, c: &Constraint) -> Vec<&'a Scenario> {
    spec.approved_scenarios()
        .filter(|s| match &c.scope {
            ConstraintScope::Global(_) => true,
            ConstraintScope::Domain(d) => &s.domain == d,
            ConstraintScope::Interaction(name) => spec
                .interactions
                .iter()
                .any(|i| &i.name == name && i.participants.contains(&s.domain)),
        })
        .collect()
}

/// Words that mark a declared degradation or fallback behaviour in a constraint.
fn declares_fallback(c: &Constraint) -> bool {
    let text = format!(
        "{} {}",
        c.name.to_lowercase(),
        c.requirement.as_deref().unwrap_or_default().to_lowercase()
    );
    [
        "degrad",
        "fallback",
        "fall back",
        "continue",
        "retry",
        "failover",
        "fail over",
        "rollback",
        "roll back",
        "circuit",
    ]
    .iter()
    .any(|w| text.contains(w))
}

pub fn write(subject: Subject<'_>, input: &RunbookInput<'_>) -> Runbook {
    let spec = input.spec;
    let mut w = Writer {
        text: String::new(),
        cites: BTreeSet::new(),
        gaps: Vec::new(),
    };
    let incidents: Vec<&IncidentRecord> = input.incidents.iter().take(MAX_INCIDENTS).collect();
    let title = subject.title();
    w.line(&format!("# Runbook: {title}"));
    w.line("");
    w.line(&format!(
        "Generated by SDD (generate_runbook) from the spec and {} recorded incident(s). Every statement names its source in brackets; nothing here comes from anywhere else.",
        incidents.len()
    ));
    w.line("");

    // What it promises.
    w.line("## What it promises");
    w.line("");
    let (domain, touching): (Option<&str>, Vec<&Constraint>) = match subject {
        Subject::Scenario(s) => {
            let at = spec_at(&s.location);
            let status = match s.status {
                ReviewStatus::Approved => "approved",
                ReviewStatus::Proposed => "proposed, not yet approved",
                ReviewStatus::Rejected => "rejected",
                ReviewStatus::ChangedSinceApproval => "changed since it was approved",
            };
            w.cited(
                &format!("- Scenario `{}` of domain `{}` ({status})", s.id, s.domain),
                &at,
            );
            for g in &s.given {
                w.cited(&format!("- Given {g}"), &at);
            }
            if let Some(when) = &s.when {
                w.cited(&format!("- When {when}"), &at);
            }
            for t in &s.then {
                w.cited(&format!("- Then {t}"), &at);
            }
            (
                Some(s.domain.as_str()),
                constraints_touching(spec, &s.domain),
            )
        }
        Subject::Constraint(c) => {
            let at = spec_at(&c.location);
            let scope = match &c.scope {
                ConstraintScope::Global(n) => format!("global (system `{n}`)"),
                ConstraintScope::Domain(d) => format!("domain `{d}`"),
                ConstraintScope::Interaction(i) => format!("interaction `{i}`"),
            };
            w.cited(
                &format!("- Constraint `{}` ({}, {scope})", c.id, c.category),
                &at,
            );
            if let Some(r) = &c.requirement {
                w.cited(&format!("- Requirement: {r}"), &at);
            }
            if let Some(m) = &c.measurement {
                w.cited(&format!("- Measured: {m}"), &at);
            }
            for e in &c.exceptions {
                w.cited(&format!("- Except: {e}"), &at);
            }
            (subject.domain(), vec![c])
        }
    };
    w.line("");

    detection(&mut w, subject, input, &touching);
    verification(&mut w, subject, spec);
    causes(&mut w, subject, spec, domain, &touching, &incidents);
    // The degradation the spec declares around the subject: for a constraint, every
    // constraint holding where it holds (its domain's and the global ones).
    let around: Vec<&Constraint> = match subject {
        Subject::Scenario(_) => touching.clone(),
        Subject::Constraint(c) => match &c.scope {
            ConstraintScope::Domain(d) => constraints_touching(spec, d),
            ConstraintScope::Global(_) | ConstraintScope::Interaction(_) => {
                spec.constraints.iter().map(|c| &**c).collect()
            }
        },
    };
    remediation(&mut w, spec, domain, &around, &incidents);
    escalation(&mut w, subject, spec, input.rules, &touching, domain);

    Runbook {
        subject: subject.id().to_string(),
        kind: subject.kind().to_string(),
        title,
        markdown: w.text,
        cites: w.cites.into_iter().collect(),
        gaps: w.gaps,
        incidents_cited: incidents.len(),
    }
}

fn detection(
    w: &mut Writer,
    subject: Subject<'_>,
    input: &RunbookInput<'_>,
    touching: &[&Constraint],
) {
    w.line("## Detection");
    w.line("");
    if let Subject::Scenario(s) = subject {
        let outcomes = &input.project.monitoring.convention.scenario_outcomes;
        w.cited(
            &format!(
                "- The service counts this scenario's outcomes: `sum by (outcome) (rate({outcomes}{{scenario=\"{}\"}}[5m]))`; a rising `failure` share is this runbook's symptom",
                s.id
            ),
            "sdd.yaml: monitoring.convention.scenario_outcomes",
        );
        if !s.examples.is_empty() {
            w.cited(
                &format!(
                    "- `sdd monitor` runs its {} executable example(s) as a synthetic journey: `sdd_journey_success{{scenario=\"{}\"}}` is 0 when a run fails",
                    s.examples.len(),
                    s.id
                ),
                &spec_at(&s.location),
            );
        }
    }
    let ids: BTreeSet<&str> = touching.iter().map(|c| c.id.as_str()).collect();
    let mut alerts = 0;
    for rule in input.rules.rules().filter(|r| r.kind == RuleKind::Alert) {
        let Some(constraint) = rule.label("constraint") else {
            continue;
        };
        if !ids.contains(constraint) {
            continue;
        }
        alerts += 1;
        let severity = rule.label("severity").unwrap_or("unlabelled");
        let name = touching
            .iter()
            .find(|c| c.id == constraint)
            .map(|c| c.name.as_str())
            .unwrap_or(constraint);
        let hold = rule
            .hold
            .as_deref()
            .map(|h| format!(", held {h}"))
            .unwrap_or_default();
        w.cited(
            &format!("- Alert `{}` ({severity}{hold}) for \"{name}\":", rule.name),
            &format!("rule {} of constraint {constraint}", rule.name),
        );
        w.line("");
        w.line("  ```promql");
        for line in rule.expr.lines() {
            w.line(&format!("  {line}"));
        }
        w.line("  ```");
    }
    for gap in input
        .rules
        .not_covered
        .iter()
        .filter(|n| n.constraint.as_deref().is_some_and(|c| ids.contains(c)))
    {
        let check = gap
            .check
            .as_deref()
            .map(|c| format!(" ({} check)", c.replace('_', " ")))
            .unwrap_or_default();
        w.cited(
            &format!("- No alert watches \"{}\"{check}: {}", gap.name, gap.reason),
            &format!(
                "generate_alert_rules: {}",
                gap.constraint.as_deref().unwrap_or_default()
            ),
        );
    }
    if alerts == 0 {
        w.gap(
            "detection",
            "no generated alert watches this: the constraints that touch it have no metric-measured check. post_incident_learnings proposes one after an incident; a ratio or latency constraint in the spec gets its own alerts",
        );
    }
    w.line("");
}

fn verification(w: &mut Writer, subject: Subject<'_>, spec: &Spec) {
    w.line("## Verify");
    w.line("");
    match subject {
        Subject::Scenario(s) => {
            let at = spec_at(&s.location);
            w.cited(
                &format!(
                    "1. `scenario_health {{\"ids\": [\"{}\"]}}` (monitoring server): healthy is every counted outcome a success and every journey passing",
                    s.id
                ),
                &at,
            );
            if s.examples.is_empty() {
                w.gap(
                    "verify",
                    "the scenario has no executable example, so check_scenarios cannot exercise it; adding one to the spec adds the step here",
                );
            } else {
                w.cited(
                    &format!(
                        "2. `check_scenarios {{\"ids\": [\"{}\"]}}` (implementation server) runs its examples; healthy answers:",
                        s.id
                    ),
                    &at,
                );
                for example in &s.examples {
                    for step in &example.steps {
                        let status = step
                            .expect
                            .status
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "any status".into());
                        w.line(&format!(
                            "   - `{} {}` → {status}",
                            step.request.method, step.request.path
                        ));
                    }
                }
            }
            w.cited(
                &format!(
                    "3. `analyze_incident {{\"since\": \"6h\"}}` (debugger server): healthy is nothing broken for `{}`; `trace_transaction` on a failing request's business key shows its steps",
                    s.id
                ),
                &at,
            );
        }
        Subject::Constraint(c) => {
            let at = spec_at(&c.location);
            let checks: Vec<String> = c
                .parsed
                .checks
                .iter()
                .map(|k| k.kind().replace('_', " "))
                .collect();
            if checks.is_empty() {
                w.gap(
                    "verify",
                    &format!(
                        "\"{}\" is not machine-checkable as written, so no tool measures it; the structured form validate_spec shows makes it checkable",
                        c.name
                    ),
                );
            } else {
                w.cited(
                    &format!(
                        "1. `constraint_headroom {{\"ids\": [\"{}\"]}}` (monitoring server): healthy is a positive headroom on its {} check(s)",
                        c.id,
                        checks.join(", ")
                    ),
                    &at,
                );
                w.cited(
                    &format!(
                        "2. `verify_constraints {{\"ids\": [\"{}\"]}}` (implementation server) measures it against a running service: healthy is `passing`",
                        c.id
                    ),
                    &at,
                );
            }
            let under = scenarios_under(spec, c);
            if !under.is_empty() {
                let names: Vec<String> = under
                    .iter()
                    .take(8)
                    .map(|s| format!("\"{}\"", s.name))
                    .collect();
                let more = under.len().saturating_sub(8);
                w.cited(
                    &format!(
                        "3. It holds over {} approved scenario(s): {}{}; `scenario_health` shows whether users feel it",
                        under.len(),
                        names.join(", "),
                        if more > 0 { format!(" and {more} more") } else { String::new() }
                    ),
                    &at,
                );
            }
        }
    }
    w.line("");
}

fn causes(
    w: &mut Writer,
    subject: Subject<'_>,
    spec: &Spec,
    domain: Option<&str>,
    touching: &[&Constraint],
    incidents: &[&IncidentRecord],
) {
    w.line("## Likely causes");
    w.line("");
    // Recorded incidents first: they happened. Grouped by their stated cause (else the top
    // hypothesis of their analysis), most frequent first.
    let mut by_cause: BTreeMap<String, Vec<&IncidentRecord>> = BTreeMap::new();
    for i in incidents {
        if let Some(cause) = incident_cause(i) {
            by_cause.entry(plain(&cause)).or_default().push(i);
        }
    }
    let mut grouped: Vec<(String, Vec<&IncidentRecord>)> = by_cause.into_iter().collect();
    grouped.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut n = 0;
    for (cause, seen) in &grouped {
        n += 1;
        let cites: Vec<String> = seen.iter().map(|i| incident_cite(i)).collect();
        for c in &cites {
            w.cites.insert(c.clone());
        }
        w.line(&format!(
            "{n}. {cause} — seen in {} recorded incident(s), last on {} [{}]",
            seen.len(),
            seen[0].incident.started_at,
            cites.join(", ")
        ));
    }
    // What the spec says it depends on.
    if let Some(d) = domain {
        if let Some(declared) = spec.domains.iter().find(|x| x.name == d) {
            for dep in &declared.dependencies {
                n += 1;
                let at = declared
                    .declared_at
                    .first()
                    .map(spec_at)
                    .unwrap_or_else(|| "spec: the system file".into());
                w.cited(
                    &format!("{n}. Domain `{dep}` misbehaving: `{d}` depends on it"),
                    &at,
                );
            }
        }
        for interaction in spec
            .interactions
            .iter()
            .filter(|i| i.participants.iter().any(|p| p == d))
        {
            let at = spec_at(&interaction.location);
            for flow in &interaction.flows {
                let steps: Vec<&String> = flow
                    .steps
                    .iter()
                    .filter(|s| s.to_lowercase().contains(&d.to_lowercase()))
                    .collect();
                if steps.is_empty() {
                    continue;
                }
                n += 1;
                w.cited(
                    &format!(
                        "{n}. A step of \"{}\" ({}) failing: {}",
                        flow.name,
                        interaction.name,
                        steps
                            .iter()
                            .map(|s| format!("\"{s}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    &at,
                );
            }
        }
    }
    // Constraints that refuse or slow requests: a refusal reads as this failing.
    if let Subject::Scenario(_) = subject {
        for c in touching {
            let refusing: Vec<&str> = c
                .parsed
                .checks
                .iter()
                .filter_map(|k| match k.kind() {
                    "rate_limit" => Some("a rate-limit refusal (429)"),
                    "authentication" => Some("an authentication refusal (401)"),
                    "max_size" => Some("a size refusal (413 or 400)"),
                    _ => None,
                })
                .collect();
            if refusing.is_empty() {
                continue;
            }
            n += 1;
            w.cited(
                &format!(
                    "{n}. \"{}\" at work: {} reads as this scenario failing",
                    rules_words(c),
                    refusing.join(" or ")
                ),
                &spec_at(&c.location),
            );
        }
    }
    if n == 0 {
        w.gap(
            "likely causes",
            "no incident is recorded for it and the spec declares no dependency, interaction or refusing constraint around it; record_incident after an incident adds its cause here",
        );
    }
    w.line("");
}

/// An incident's cause: as people stated it, else its analysis's top hypothesis.
pub fn incident_cause(i: &IncidentRecord) -> Option<String> {
    if let Some(c) = i.incident.cause.as_deref().filter(|c| !c.trim().is_empty()) {
        return Some(c.trim().to_string());
    }
    let top = i.incident.analysis.as_ref()?.get("hypotheses")?.get(0)?;
    top.get("cause")
        .and_then(|c| c.as_str())
        .map(|c| format!("{c} (the analysis's top hypothesis)"))
}

fn rules_words(c: &Constraint) -> String {
    sdd_monitoring::rules::in_words(c)
}

fn remediation(
    w: &mut Writer,
    spec: &Spec,
    domain: Option<&str>,
    touching: &[&Constraint],
    incidents: &[&IncidentRecord],
) {
    w.line("## Remediation");
    w.line("");
    let mut n = 0;
    for i in incidents {
        let Some(resolution) = i
            .incident
            .resolution
            .as_deref()
            .filter(|r| !r.trim().is_empty())
        else {
            continue;
        };
        n += 1;
        w.cited(
            &format!(
                "{n}. What resolved \"{}\" ({}): {}",
                plain(&i.incident.title),
                i.incident.started_at,
                plain(resolution)
            ),
            &incident_cite(i),
        );
    }
    // The degradation and fallback behaviour the spec declares.
    for c in touching.iter().filter(|c| declares_fallback(c)) {
        n += 1;
        w.cited(
            &format!(
                "{n}. The spec's declared behaviour under failure: \"{}\" — check it holds while you fix the cause",
                rules_words(c)
            ),
            &spec_at(&c.location),
        );
    }
    if let Some(d) = domain {
        for interaction in spec
            .interactions
            .iter()
            .filter(|i| i.participants.iter().any(|p| p == d))
        {
            for flow in &interaction.flows {
                for handling in &flow.failure_handling {
                    let mut parts = Vec::new();
                    if let Some(r) = &handling.rollback {
                        parts.push(format!("roll back: {r}"));
                    }
                    if let Some(c) = &handling.compensation {
                        parts.push(format!("compensate: {c}"));
                    }
                    if parts.is_empty() {
                        continue;
                    }
                    n += 1;
                    w.cited(
                        &format!("{n}. When \"{}\": {}", handling.name, parts.join("; ")),
                        &spec_at(&interaction.location),
                    );
                }
            }
        }
    }
    for chaos in &spec.chaos_scenarios {
        let mentions = domain.is_some_and(|d| {
            format!("{} {}", chaos.name, chaos.verify)
                .to_lowercase()
                .contains(&d.to_lowercase())
        });
        if mentions {
            n += 1;
            w.cited(
                &format!(
                    "{n}. Under \"{}\" the spec expects: {}",
                    chaos.name, chaos.verify
                ),
                &spec_at(&chaos.location),
            );
        }
    }
    if n == 0 {
        w.gap(
            "remediation",
            "the spec declares no degradation or fallback behaviour here and no recorded incident has a resolution; a reliability constraint or an interaction's failure_handling in the spec adds steps here",
        );
    }
    w.line("");
}

fn escalation(
    w: &mut Writer,
    subject: Subject<'_>,
    spec: &Spec,
    rules: &AlertRules,
    touching: &[&Constraint],
    domain: Option<&str>,
) {
    w.line("## Escalation");
    w.line("");
    let ids: BTreeSet<&str> = touching.iter().map(|c| c.id.as_str()).collect();
    let pages: BTreeSet<&str> = rules
        .rules()
        .filter(|r| {
            r.kind == RuleKind::Alert
                && r.label("severity") == Some("page")
                && r.label("constraint").is_some_and(|c| ids.contains(c))
        })
        .map(|r| r.name.as_str())
        .collect();
    // Burn-rate pages mean the error budget goes within days; the others, a bound crossed.
    let (burns, crossings): (Vec<&str>, Vec<&str>) =
        pages.into_iter().partition(|p| p.contains("Burn"));
    let either = |names: &[&str]| {
        names
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let mut n = 0;
    for (names, why) in [
        (&burns, "at that rate the error budget is gone within days"),
        (&crossings, "the constraint's bound is crossed and stays so"),
    ] {
        if names.is_empty() {
            continue;
        }
        n += 1;
        w.cited(
            &format!("- Page the on-call when {} fires: {why}", either(names)),
            "generate_alert_rules: severity page",
        );
    }
    // Who approved the behaviour: the people the spec names as its reviewers.
    let reviewed: Vec<&Scenario> = match subject {
        Subject::Scenario(s) => vec![s],
        Subject::Constraint(c) => scenarios_under(spec, c),
    };
    let mut reviewers: BTreeMap<&str, &Scenario> = BTreeMap::new();
    for s in reviewed {
        if let Some(by) = s.reviewed_by.as_deref() {
            reviewers.entry(by).or_insert(s);
        }
    }
    for (by, s) in reviewers.iter().take(5) {
        n += 1;
        w.cited(
            &format!(
                "- When the behaviour itself is in question (what \"{}\" should do), ask {by}, who approved it",
                s.name
            ),
            &spec_at(&s.location),
        );
    }
    if let Some(d) = domain {
        if let Some(declared) = spec.domains.iter().find(|x| x.name == d) {
            if !declared.dependencies.is_empty() {
                n += 1;
                w.cited(
                    &format!(
                        "- When the cause is confirmed in {}, hand over to the people who run it",
                        declared
                            .dependencies
                            .iter()
                            .map(|x| format!("`{x}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                    &declared
                        .declared_at
                        .first()
                        .map(spec_at)
                        .unwrap_or_else(|| "spec: the system file".into()),
                );
            }
        }
    }
    if n == 0 {
        w.gap(
            "escalation",
            "no paging alert watches it, no reviewer is recorded for it and it has no declared dependency; the spec does not say whom to call",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdd_history::incidents::NewIncident;
    use sdd_monitoring::rules::{alert_rules, Setting};

    const SPEC: &str = "\
system: shop
domains:
  - name: checkout
    dependencies: [payments]
  - name: payments
global_constraints:
  reliability:
    - name: Uptime
      requirement: 99.9% availability
";
    const CHECKOUT: &str = "\
domain: checkout
constraints:
  performance:
    - name: Checkout latency
      requirement: p95 latency < 300ms
  reliability:
    - name: Graceful degradation
      requirement: Orders continue to be accepted when payments are slow
  security:
    - name: Rate limiting
      requirement: Max 100 requests per minute per user
scenarios:
  - name: Complete checkout
    status: approved
    reviewed_by: alice
    given: A cart with one item
    when: I check out
    then: An order is created
    examples:
      - steps:
          - request: {method: POST, path: /orders, json: {item: 1}}
            expect: {status: 201}
";
    const FLOW: &str = "\
interaction: purchase
participants: [checkout, payments]
flow:
  - name: Buy
    steps:
      1: Checkout asks payments for an authorisation
    failure_handling:
      - name: Payment fails
        rollback: Release the cart within 30 seconds
";

    /// The spec, its scenario approved by alice (with the fingerprint `sdd review` records).
    fn spec() -> Spec {
        let load = |checkout: &str| {
            sdd_spec::load::load_sources(&[
                ("system.yaml".into(), SPEC.into()),
                ("checkout.yaml".into(), checkout.into()),
                ("purchase.yaml".into(), FLOW.into()),
            ])
        };
        let fingerprint =
            sdd_spec::approval::scenario_fingerprint(&load(CHECKOUT).spec.scenarios[0]);
        let approved = CHECKOUT.replace(
            "    reviewed_by: alice\n",
            &format!("    reviewed_by: alice\n    approved_fingerprint: \"{fingerprint}\"\n"),
        );
        let loaded = load(&approved);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.spec
    }

    fn runbook(spec: &Spec, id: &str, incidents: &[IncidentRecord]) -> Runbook {
        let project = sdd_spec::project::parse_project_file("specs: specs\n").unwrap();
        let setting = Setting::new(&project, spec).unwrap();
        let constraints: Vec<&Constraint> = spec.constraints.iter().map(|c| &**c).collect();
        let rules = alert_rules(&setting, &constraints);
        write(
            Subject::find(spec, id).expect("the subject"),
            &RunbookInput {
                spec,
                project: &project,
                rules: &rules,
                incidents,
            },
        )
    }

    fn incident(id: i64, cause: Option<&str>, resolution: Option<&str>) -> IncidentRecord {
        IncidentRecord {
            id,
            recorded_at: "2026-12-01T04:00:00Z".into(),
            incident: NewIncident {
                title: "checkouts failing".into(),
                started_at: "2026-12-01T03:12:00Z".into(),
                subjects: vec!["CHECKOUT_COMPLETE_CHECKOUT".into()],
                cause: cause.map(str::to_string),
                resolution: resolution.map(str::to_string),
                analysis: Some(
                    serde_json::json!({"hypotheses": [{"cause": "payments version 2.1 deployed"}]}),
                ),
                recorded_by: "alice".into(),
                ..NewIncident::default()
            },
        }
    }

    /// Every line that states something ends with its source: a runbook with an uncited line
    /// would be saying something nothing backs.
    fn assert_every_statement_cited(markdown: &str) {
        let mut in_code = false;
        for line in markdown.lines() {
            let t = line.trim();
            if t.starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if in_code || t.is_empty() || t.starts_with('#') || t.starts_with("Generated by") {
                continue;
            }
            // Continuation lines of a cited list item (an example's requests) and gaps.
            if t.starts_with("- `") && !t.contains('[') && line.starts_with("   ") {
                continue;
            }
            if t.starts_with("- _") {
                continue;
            }
            assert!(
                t.ends_with(']') && t.contains(" ["),
                "uncited statement: {line}\n---\n{markdown}"
            );
        }
    }

    #[test]
    fn a_scenario_runbook_is_in_the_specs_words_and_cites_everything() {
        let spec = spec();
        let id = spec.scenarios[0].id.clone();
        let rb = runbook(&spec, &id, &[]);
        assert_eq!(rb.title, "Complete checkout failing");
        let md = &rb.markdown;
        assert!(
            md.starts_with("# Runbook: Complete checkout failing"),
            "{md}"
        );
        for expected in [
            "Given A cart with one item",
            "Then An order is created",
            // Detection: the global availability constraint's burn-rate alerts.
            "Alert `SddErrorBudgetBurn1h` (page",
            // Verify: the example's request and the healthy answer.
            "`POST /orders` → 201",
            // Causes from the spec: the declared dependency, the interaction step, and the
            // rate limit whose refusals read as failures.
            "Domain `payments` misbehaving",
            "Checkout asks payments for an authorisation",
            "a rate-limit refusal (429)",
            // Remediation: declared degradation and failure handling.
            "Graceful degradation: Orders continue to be accepted",
            "roll back: Release the cart within 30 seconds",
            // Escalation: the page alerts and the reviewer.
            "Page the on-call",
            "ask alice, who approved it",
        ] {
            assert!(md.contains(expected), "missing {expected:?}:\n{md}");
        }
        assert_every_statement_cited(md);
        assert!(rb.gaps.is_empty(), "{:?}", rb.gaps);
    }

    #[test]
    fn incidents_give_causes_and_remediation_with_their_citation() {
        let spec = spec();
        let id = spec.scenarios[0].id.clone();
        let incidents = [
            incident(7, None, Some("Rolled payments back to 2.0")),
            incident(3, Some("The payments pool ran dry"), None),
        ];
        let rb = runbook(&spec, &id, &incidents);
        let md = &rb.markdown;
        assert!(
            md.contains("payments version 2.1 deployed (the analysis's top hypothesis) — seen in 1 recorded incident(s)")
                && md.contains("[incident #7]"),
            "{md}"
        );
        assert!(md.contains("The payments pool ran dry"), "{md}");
        assert!(
            md.contains("What resolved \"checkouts failing\" (2026-12-01T03:12:00Z): Rolled payments back to 2.0 [incident #7]"),
            "{md}"
        );
        assert!(rb.cites.contains(&"incident #3".to_string()));
        assert_eq!(rb.incidents_cited, 2);
        assert_every_statement_cited(md);
    }

    /// An incident's words are an agent's or a person's free text: a multi-line cause, Markdown
    /// or HTML in it stays one cited line of plain text, never a heading, a list, raw HTML or
    /// an HTML comment that hides the rest of the runbook.
    #[test]
    fn an_incidents_free_text_stays_one_cited_line_of_plain_text() {
        let spec = spec();
        let id = spec.scenarios[0].id.clone();
        let mut hostile = incident(
            4,
            Some("# Heading\n- list\n<img src=x onerror=alert(1)>\n```\ncode"),
            Some("Rolled back <!-- the rest is hidden"),
        );
        hostile.incident.title = "checkouts *failing* [x](javascript:alert(1)) | `tick`".into();
        let rb = runbook(&spec, &id, &[hostile]);
        let md = &rb.markdown;
        assert_every_statement_cited(md);
        // Each only ever behind a backslash.
        for raw in ["<img", "<!--", "# Heading", "*failing*", "[x]("] {
            let unescaped = md
                .match_indices(raw)
                .any(|(at, _)| !md[..at].ends_with('\\'));
            assert!(!unescaped, "`{raw}` reached the runbook raw:\n{md}");
        }
        assert!(!md.contains("\n- list"), "{md}");
        assert!(
            md.contains(
                r"\# Heading - list \<img src=x onerror=alert(1)\> \`\`\` code — seen in 1"
            ),
            "{md}"
        );
        assert!(
            md.contains(r"Rolled back \<!-- the rest is hidden [incident #4]"),
            "{md}"
        );
        assert!(
            md.contains(
                r#"What resolved "checkouts \*failing\* \[x\](javascript:alert(1)) \| \`tick\`""#
            ),
            "{md}"
        );
    }

    /// A bare spec gives a runbook that says what it lacks rather than inventing steps.
    #[test]
    fn what_the_spec_does_not_say_is_a_gap_not_an_invention() {
        let loaded = sdd_spec::load::load_sources(&[(
            "notes.yaml".into(),
            "domain: notes\nscenarios:\n  - name: Write a note\n    when: I write a note\n    then: It is stored\n".into(),
        )]);
        let spec = loaded.spec;
        let id = spec.scenarios[0].id.clone();
        let rb = runbook(&spec, &id, &[]);
        let sections: Vec<&str> = rb
            .gaps
            .iter()
            .map(|g| g.split(':').next().unwrap())
            .collect();
        assert_eq!(
            sections,
            [
                "detection",
                "verify",
                "likely causes",
                "remediation",
                "escalation"
            ],
            "{}",
            rb.markdown
        );
        assert!(!rb.markdown.contains("Page the on-call"));
        assert_every_statement_cited(&rb.markdown);
    }

    #[test]
    fn a_constraint_runbook_names_its_alerts_and_the_scenarios_under_it() {
        let spec = spec();
        let uptime = spec
            .constraints
            .iter()
            .find(|c| c.name == "Uptime")
            .unwrap()
            .id
            .clone();
        let rb = runbook(&spec, &uptime, &[]);
        let md = &rb.markdown;
        assert_eq!(rb.title, "Uptime at risk");
        assert!(md.contains("Requirement: 99.9% availability"), "{md}");
        assert!(md.contains("`constraint_headroom {\"ids\": [\""), "{md}");
        assert!(md.contains("\"Complete checkout\""), "{md}");
        assert!(md.contains("SddErrorBudgetBurn6h"), "{md}");
        // The degradation declared where it holds is its remediation too.
        assert!(md.contains("Graceful degradation: Orders continue"), "{md}");
        assert_every_statement_cited(md);
    }
}

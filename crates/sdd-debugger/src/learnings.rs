//! Learnings from a recorded incident: proposed scenarios, constraints, alert rules and runbook
//! updates, each citing the incident and the figures it rests on.
//!
//! What is derived, and from what (nothing else is proposed):
//! - a scenario that broke gets a **success constraint** ("99.9% success rate for <its name>")
//!   whose target is the strictest usual one its failure share before the incident keeps
//!   (`rules::scenario_target`), and the **alert rules** that constraint gives
//!   (`rules::scenario_success_rules`), with when the fastest of them would have fired — the
//!   failure shares before and after the onset put through each burn condition
//!   (`rules::burn_fires_after_ms`) — against when the incident was detected;
//! - an attribute hypothesis (the failures shared `key = value`) gives a **scenario** pinning
//!   the broken scenario's behaviour for that value: the regression test that would have
//!   caught it;
//! - every subject gets the **runbook update** the incident makes: the lines its runbook gains.
//!
//! Pure: the caller reads the incident and the spec, and stores what comes out.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use sdd_history::incidents::{IncidentRecord, LearningKind};
use sdd_monitoring::rules::{
    burn_fires_after_ms, scenario_success_rules, scenario_target, AlertRules, RuleKind, Setting,
    BURN_RATES,
};
use sdd_spec::document::OneOrMany;
use sdd_spec::ids::{derived_constraint_id, derived_scenario_id};
use sdd_spec::model::{Scenario, Spec};
use sdd_spec::project::ProjectFile;

use crate::incident::{Hypothesis, Report};
use crate::runbook::{self, RunbookInput, Subject};

/// One proposal, with why.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Proposal {
    pub kind: LearningKind,
    /// What it is known by once adopted: the scenario or constraint ID it would get, the
    /// alert (`SddScenarioBurn1h{scenario="…"}`), the runbook's subject.
    pub key: String,
    /// What it proposes and why, citing the incident.
    pub summary: String,
    /// The proposal: a scenario in `propose_scenarios`' shape, a constraint as it would be
    /// written in the spec, a rule file, the runbook's new lines.
    pub draft: serde_json::Value,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Learned {
    pub proposals: Vec<Proposal>,
    /// What could not be derived, and why.
    pub not_derived: Vec<String>,
}

pub struct LearnInput<'a> {
    pub spec: &'a Spec,
    pub project: &'a ProjectFile,
    pub setting: &'a Setting<'a>,
    /// The rules the current spec gives (`generate_alert_rules`).
    pub rules: &'a AlertRules,
    pub incident: &'a IncidentRecord,
    /// Every recorded incident touching the incident's subjects, newest first (this one
    /// included or not: it is told apart by ID).
    pub incidents: &'a [IncidentRecord],
}

/// The incident's analysis, when it was recorded with one that reads as `analyze_incident`'s.
pub fn analysis_of(incident: &IncidentRecord) -> Option<Report> {
    serde_json::from_value(incident.incident.analysis.clone()?).ok()
}

/// `requests with db_shard = B fail` → (`db_shard`, `B`): the attribute an attribute
/// hypothesis names.
pub fn attribute_of(h: &Hypothesis) -> Option<(String, String)> {
    if h.kind != "attribute" {
        return None;
    }
    let rest = h.cause.strip_prefix("requests with ")?;
    let (key, value) = rest.split_once(" = ")?;
    let value = value
        .trim_end_matches(" (a decision factor)")
        .trim_end_matches(" are refused")
        .trim_end_matches(" fail");
    (!key.is_empty() && !value.is_empty()).then(|| (key.to_string(), value.to_string()))
}

/// Seconds between two RFC 3339 times (`b − a`).
fn seconds_between(a: &str, b: &str) -> Option<f64> {
    let a = chrono::DateTime::parse_from_rfc3339(a).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(b).ok()?;
    Some((b - a).num_milliseconds() as f64 / 1000.0)
}

fn plus_seconds(at: &str, seconds: f64) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(at).ok()?;
    let t = t + chrono::Duration::milliseconds((seconds * 1000.0).round() as i64);
    Some(
        t.to_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

fn minutes(seconds: f64) -> String {
    format!("{:.1} min", seconds / 60.0)
}

pub fn learn(input: &LearnInput<'_>) -> Learned {
    let incident = input.incident;
    let cite = format!("incident #{}", incident.id);
    let mut out = Learned::default();
    let analysis = analysis_of(incident);
    if analysis.is_none() {
        out.not_derived.push(format!(
            "{cite} was recorded without an analysis (analyze_incident's answer): no failure rates, so no success target or alert timing; record it again with `analysis` to derive them"
        ));
    }
    let mut subjects: Vec<String> = incident.incident.subjects.clone();
    if let Some(report) = &analysis {
        for broken in &report.broke {
            let id = broken
                .subject
                .split(" / ")
                .next()
                .unwrap_or_default()
                .to_string();
            if !subjects.contains(&id) {
                subjects.push(id);
            }
        }
        for broken in report.broke.iter().filter(|b| b.kind == "scenario") {
            let Some(scenario) = input.spec.scenario(&broken.subject) else {
                out.not_derived.push(format!(
                    "`{}` broke in {cite} but is no scenario of the spec now",
                    broken.subject
                ));
                continue;
            };
            let onset = broken
                .since
                .clone()
                .or_else(|| report.windows.onset.clone())
                .unwrap_or_else(|| incident.incident.started_at.clone());
            success_learnings(
                input,
                scenario,
                broken.before,
                broken.after,
                &onset,
                &mut out,
            );
        }
        if let Some(top) = report.hypotheses.first() {
            if let Some((key, value)) = attribute_of(top) {
                for broken in report.broke.iter().filter(|b| b.kind == "scenario") {
                    if let Some(scenario) = input.spec.scenario(&broken.subject) {
                        out.proposals
                            .push(attribute_scenario(scenario, &key, &value, top, &cite));
                    }
                }
            } else {
                out.not_derived.push(format!(
                    "the top hypothesis of {cite} ({}: {}) names no attribute the failures shared, so no scenario pins it; draft_hotfix turns a behavioural bug report into one",
                    top.kind, top.cause
                ));
            }
        }
    }
    for id in &subjects {
        match Subject::find(input.spec, id) {
            Some(subject) => {
                if let Some(p) = runbook_update(input, subject) {
                    out.proposals.push(p);
                }
            }
            None => out.not_derived.push(format!(
                "`{id}` is a subject of {cite} but no scenario or constraint of the spec: no runbook"
            )),
        }
    }
    out
}

/// The success constraint and its alert rules for a scenario that broke, with when the
/// fastest alert would have fired.
fn success_learnings(
    input: &LearnInput<'_>,
    scenario: &Scenario,
    before: f64,
    after: f64,
    onset: &str,
    out: &mut Learned,
) {
    let incident = input.incident;
    let cite = format!("incident #{}", incident.id);
    let Some(target) = scenario_target(before) else {
        out.not_derived.push(format!(
            "\"{}\" failed {:.1}% of the time before {cite}: even a 90% success target would burn by itself, so no alert is proposed",
            scenario.name,
            before * 100.0
        ));
        return;
    };
    let budget = 1.0 - target / 100.0;
    let requirement = format!(
        "{}% success rate for {}",
        sdd_monitoring::rules::number(target),
        scenario.name
    );
    // Whether the spec already asks it: a success-rate constraint naming this scenario.
    let existing = input.spec.constraints.iter().find(|c| {
        c.parsed.checks.iter().any(|k| k.kind() == "success_rate")
            && input.setting.scenario_named_by(c).map(|s| s.id.as_str()) == Some(&scenario.id)
    });
    let constraint_name = format!("{} success", scenario.name);
    let constraint_id = existing.map(|c| c.id.clone()).unwrap_or_else(|| {
        derived_constraint_id(&scenario.domain, "reliability", &constraint_name)
    });
    let figures = format!(
        "{:.2}% of its attempts failed before the onset and {:.2}% after",
        before * 100.0,
        after * 100.0
    );
    match existing {
        Some(c) => out.not_derived.push(format!(
            "\"{}\" already asks a success rate of \"{}\" (`{}`): no constraint proposed",
            c.name, scenario.name, c.id
        )),
        None => out.proposals.push(Proposal {
            kind: LearningKind::Constraint,
            key: constraint_id.clone(),
            summary: format!(
                "\"{}\" broke in {cite} ({figures}) and no constraint asks its success: {requirement} — the strictest usual target that its rate before the incident keeps with half its budget to spare",
                scenario.name
            ),
            draft: json!({
                "domain": scenario.domain,
                "category": "reliability",
                "name": constraint_name,
                "requirement": requirement,
                "rationale": format!("Learned from {cite}: {figures}."),
            }),
        }),
    }

    let group = scenario_success_rules(
        &input.project.monitoring.convention.scenario_outcomes,
        &scenario.id,
        &scenario.name,
        target,
        input.setting.budget_window_ms,
    );
    let fastest = BURN_RATES
        .iter()
        .filter_map(|b| burn_fires_after_ms(b, budget, before, after).map(|ms| (b, ms / 1000.0)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let Some((burn, fires_after)) = fastest else {
        out.not_derived.push(format!(
            "at {:.2}% failing after the onset, \"{}\" burns a {target}% budget slower than any alert condition: no alert would have fired in {cite}",
            after * 100.0,
            scenario.name
        ));
        return;
    };
    let alert = format!(
        "{}{{scenario=\"{}\"}}",
        burn.scenario_alert_name(),
        scenario.id
    );
    let would_fire_at = plus_seconds(onset, fires_after);
    let detected = incident.incident.detected_at.as_deref();
    let mut timing = format!(
        "{} after the onset ({}), at {}",
        minutes(fires_after),
        onset,
        would_fire_at.as_deref().unwrap_or("an unreadable time")
    );
    let mut earlier_by = None;
    let ended_first = match (incident.incident.ended_at.as_deref(), &would_fire_at) {
        (Some(end), Some(fire)) => seconds_between(end, fire)
            .is_some_and(|s| s > 0.0)
            .then_some(end),
        _ => None,
    };
    match (ended_first, detected, &would_fire_at) {
        (Some(end), _, _) => timing.push_str(&format!(
            "; the incident ended at {end}, before that: it would not have fired"
        )),
        (None, Some(d), Some(fire)) => match seconds_between(fire, d) {
            Some(gap) if gap > 0.0 => {
                earlier_by = Some(gap);
                timing.push_str(&format!(
                    "; it was detected at {d}: {} earlier",
                    minutes(gap)
                ));
            }
            Some(gap) => timing.push_str(&format!(
                "; it was detected at {d}, {} before this alert would have fired: not earlier",
                minutes(-gap)
            )),
            None => timing.push_str(&format!("; its detected_at `{d}` is not RFC 3339")),
        },
        (None, None, _) => {
            timing.push_str("; the incident has no detected_at, so how much earlier cannot be said")
        }
        (None, Some(_), None) => {}
    }
    let adopted = input
        .rules
        .rules()
        .any(|r| r.kind == RuleKind::Alert && r.label("scenario") == Some(scenario.id.as_str()));
    let mut file = AlertRules {
        groups: vec![group],
        ..AlertRules::default()
    }
    .to_yaml(&format!(
        "Proposed by SDD (post_incident_learnings) from {cite}: \"{}\" at {target}% success.\nAdding the constraint `{requirement}` to the spec makes generate_alert_rules write these.",
        scenario.name
    ));
    const MAX_RULES_FILE: usize = 20_000;
    const CUT: &str = "# cut here to fit the answer: generate_alert_rules writes them whole once the constraint is in the spec\n";
    if file.len() > MAX_RULES_FILE {
        // At the last whole line that leaves room for the note (a char boundary: never
        // inside a letter).
        let room = MAX_RULES_FILE - CUT.len();
        let mut end = room;
        while !file.is_char_boundary(end) {
            end -= 1;
        }
        let cut = file[..end].rfind('\n').map_or(0, |i| i + 1);
        file.truncate(cut);
        file.push_str(CUT);
    }
    out.proposals.push(Proposal {
        kind: LearningKind::AlertRule,
        key: alert.clone(),
        summary: format!(
            "`{alert}` ({}, {}× burn over {} and {}) would have fired {timing}{}",
            burn.severity,
            sdd_monitoring::rules::number(burn.factor),
            sdd_monitoring::window::format_duration(burn.long_ms),
            sdd_monitoring::window::format_duration(burn.short_ms),
            if adopted {
                "; the spec's rules already carry it"
            } else {
                ""
            }
        ),
        draft: json!({
            "alert": alert,
            "severity": burn.severity,
            "target_percent": target,
            "failure_share_before": before,
            "failure_share_after": after,
            "onset": onset,
            "fires_after_onset_seconds": (fires_after * 10.0).round() / 10.0,
            "would_fire_at": would_fire_at,
            "detected_at": detected,
            "earlier_by_seconds": earlier_by.map(|s| s.round()),
            "assumes": "steady traffic and the failure shares the analysis measured before and after the onset; Prometheus evaluates rules every evaluation_interval (1m by default), so it fires up to that much later",
            "rules": file,
        }),
    });
}

/// A scenario pinning the broken one's behaviour for the attribute value its failures shared.
fn attribute_scenario(
    scenario: &Scenario,
    key: &str,
    value: &str,
    h: &Hypothesis,
    cite: &str,
) -> Proposal {
    let name = format!("{} with {key} {value}", scenario.name);
    let mut given = scenario.given.clone();
    given.push(format!("the request's {key} is {value}"));
    let draft = sdd_spec::document::ProposedScenario {
        id: None,
        name: name.clone(),
        given: Some(OneOrMany::Many(given)),
        when: scenario.when.clone(),
        then: OneOrMany::Many(scenario.then.clone()),
        rationale: format!(
            "Learned from {cite}: its top hypothesis, \"{}\" (score {:.2}); this pins \"{}\" for that value so a test catches it before users do.",
            h.cause, h.score, scenario.name
        ),
        tags: vec!["regression".into()],
        examples: Vec::new(),
    };
    Proposal {
        kind: LearningKind::Scenario,
        key: derived_scenario_id(&scenario.domain, &name),
        summary: format!(
            "The failures of \"{}\" in {cite} shared {key} = {value}: a scenario for it (propose it with propose_scenarios, domain `{}`)",
            scenario.name, scenario.domain
        ),
        draft: json!({"domain": scenario.domain, "scenario": draft}),
    }
}

/// The lines the incident adds to the subject's runbook.
fn runbook_update(input: &LearnInput<'_>, subject: Subject<'_>) -> Option<Proposal> {
    let id = input.incident.id;
    let touching = |i: &&IncidentRecord| i.incident.subjects.iter().any(|s| s == subject.id());
    let without: Vec<IncidentRecord> = input
        .incidents
        .iter()
        .filter(|i| i.id != id)
        .filter(touching)
        .cloned()
        .collect();
    let mut with = without.clone();
    with.push(input.incident.clone());
    with.sort_by_key(|i| std::cmp::Reverse(i.id));
    let write = |incidents: &[IncidentRecord]| {
        runbook::write(
            subject,
            &RunbookInput {
                spec: input.spec,
                project: input.project,
                rules: input.rules,
                incidents,
            },
        )
        .markdown
    };
    let before = write(&without);
    let after = write(&with);
    let old: std::collections::HashSet<&str> = before.lines().collect();
    let added: Vec<&str> = after
        .lines()
        .filter(|l| !old.contains(l) && l.contains(&format!("incident #{id}")))
        .collect();
    if added.is_empty() {
        return None;
    }
    Some(Proposal {
        kind: LearningKind::RunbookUpdate,
        key: subject.id().to_string(),
        summary: format!(
            "The runbook of \"{}\" gains {} line(s) from incident #{id} (generate_runbook writes them from now on)",
            subject.title(),
            added.len()
        ),
        draft: json!({"runbook": subject.id(), "added": added}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdd_history::incidents::NewIncident;
    use sdd_monitoring::rules::alert_rules;
    use sdd_spec::model::Constraint;

    const CHECKOUT: &str = "\
domain: checkout
scenarios:
  - name: Complete checkout
    status: approved
    reviewed_by: alice
    given: A cart with one item
    when: I check out
    then: An order is created
";

    /// The spec with its scenario approved, plus `extra` appended to the file.
    fn spec_with(extra: &str) -> Spec {
        let load = |text: &str| {
            sdd_spec::load::load_sources(&[("checkout.yaml".into(), text.into())]).spec
        };
        let fingerprint = sdd_spec::approval::scenario_fingerprint(&load(CHECKOUT).scenarios[0]);
        let text = CHECKOUT.replace(
            "    reviewed_by: alice\n",
            &format!("    reviewed_by: alice\n    approved_fingerprint: \"{fingerprint}\"\n"),
        ) + extra;
        let spec = load(&text);
        assert_eq!(spec.approved_scenarios().count(), 1);
        spec
    }

    const SCENARIO: &str = "checkout.complete_checkout";

    fn analysis(before: f64, after: f64, hypothesis: (&str, &str)) -> serde_json::Value {
        json!({
            "headline": "Complete checkout broke at 03:12",
            "windows": {
                "baseline_start": "2026-12-01T02:00:00Z",
                "baseline_end": "2026-12-01T03:12:00Z",
                "incident_start": "2026-12-01T03:12:00Z",
                "incident_end": "2026-12-01T04:00:00Z",
                "onset": "2026-12-01T03:12:00Z",
                "onset_method": "change point",
                "bin_seconds": 60.0
            },
            "events": 10000,
            "probed": [],
            "broke": [{
                "kind": "scenario",
                "subject": SCENARIO,
                "what": "failure rate",
                "before": before,
                "after": after,
                "since": "2026-12-01T03:12:00Z",
                "evidence": {"claim": "", "figures": {}, "source": ""}
            }],
            "hypotheses": [{
                "rank": 1,
                "kind": hypothesis.0,
                "cause": hypothesis.1,
                "score": 0.8,
                "evidence_for": [],
                "evidence_against": [],
                "verify": ""
            }],
            "method": ""
        })
    }

    fn incident(analysis: Option<serde_json::Value>, detected: Option<&str>) -> IncidentRecord {
        IncidentRecord {
            id: 4,
            recorded_at: "2026-12-01T05:00:00Z".into(),
            incident: NewIncident {
                title: "checkouts failing".into(),
                started_at: "2026-12-01T03:12:00Z".into(),
                ended_at: Some("2026-12-01T04:00:00Z".into()),
                detected_at: detected.map(str::to_string),
                subjects: vec![SCENARIO.into()],
                cause: Some("shard B was down".into()),
                resolution: Some("failed shard B over".into()),
                analysis,
                recorded_by: "alice".into(),
                ..NewIncident::default()
            },
        }
    }

    fn learn_from(spec: &Spec, incident: &IncidentRecord) -> Learned {
        let project = sdd_spec::project::parse_project_file("specs: specs\n").unwrap();
        let setting = Setting::new(&project, spec).unwrap();
        let constraints: Vec<&Constraint> = spec.constraints.iter().map(|c| &**c).collect();
        let rules = alert_rules(&setting, &constraints);
        learn(&LearnInput {
            spec,
            project: &project,
            setting: &setting,
            rules: &rules,
            incident,
            incidents: std::slice::from_ref(incident),
        })
    }

    fn proposal(learned: &Learned, kind: LearningKind) -> &Proposal {
        learned
            .proposals
            .iter()
            .find(|p| p.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} in {:#?}", learned))
    }

    /// A long scenario name in letters of two bytes makes the proposed rules file longer than
    /// its cap: it is cut at a line (never inside a letter, which panicked), and says so.
    #[test]
    fn a_long_rules_file_is_cut_at_a_line_not_inside_a_letter() {
        for pad in ["", "x", "xy", "xyz"] {
            let name = format!("Complete checkout {pad}{}", "é".repeat(1_500));
            let text = format!(
                "domain: checkout\nscenarios:\n  - id: {SCENARIO}\n    name: \"{name}\"\n    when: I check out\n    then: An order is created\n"
            );
            let spec = sdd_spec::load::load_sources(&[("checkout.yaml".into(), text)]).spec;
            assert!(spec.scenario(SCENARIO).is_some());
            let record = incident(
                Some(analysis(
                    0.0005,
                    0.3,
                    ("deploy", "the deploy of version 1.4.2"),
                )),
                None,
            );
            let learned = learn_from(&spec, &record);
            let rules = proposal(&learned, LearningKind::AlertRule).draft["rules"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(rules.len() <= 20_000, "{}", rules.len());
            assert!(rules.ends_with('\n'), "{pad:?}: cut inside a line");
            assert!(rules.contains("# cut here"), "{pad:?}: {rules}");
        }
    }

    /// 0.05 % failing before, 30 % after: a 99.9 % target, whose page alert over 1 h crosses
    /// 1.44 % after 3600 × (0.0144 − 0.0005) / (0.3 − 0.0005) = 167 s; detected 28 minutes in.
    #[test]
    fn a_broken_scenario_gets_a_success_constraint_and_the_alert_that_would_have_caught_it() {
        let spec = spec_with("");
        let record = incident(
            Some(analysis(
                0.0005,
                0.3,
                ("deploy", "the deploy of version 1.4.2"),
            )),
            Some("2026-12-01T03:40:00Z"),
        );
        let learned = learn_from(&spec, &record);
        let constraint = proposal(&learned, LearningKind::Constraint);
        assert_eq!(
            constraint.draft["requirement"],
            "99.9% success rate for Complete checkout"
        );
        assert_eq!(
            constraint.key,
            "checkout.reliability.complete_checkout_success"
        );
        assert!(
            constraint.summary.contains("incident #4"),
            "{}",
            constraint.summary
        );
        let alert = proposal(&learned, LearningKind::AlertRule);
        assert_eq!(
            alert.key,
            format!("SddScenarioBurn1h{{scenario=\"{SCENARIO}\"}}")
        );
        let draft = &alert.draft;
        assert_eq!(draft["fires_after_onset_seconds"], 167.1);
        assert_eq!(draft["would_fire_at"], "2026-12-01T03:14:47Z");
        assert_eq!(draft["earlier_by_seconds"], 1513.0);
        assert!(
            alert.summary.contains("25.2 min earlier"),
            "{}",
            alert.summary
        );
        assert!(
            draft["rules"]
                .as_str()
                .unwrap()
                .contains("SddScenarioBurn6h"),
            "{draft}"
        );
        // A deploy names no attribute: no scenario, and it says why.
        assert!(learned
            .proposals
            .iter()
            .all(|p| p.kind != LearningKind::Scenario));
        assert!(
            learned
                .not_derived
                .iter()
                .any(|n| n.contains("draft_hotfix")),
            "{:?}",
            learned.not_derived
        );
        let runbook = proposal(&learned, LearningKind::RunbookUpdate);
        let added = runbook.draft["added"].as_array().unwrap();
        assert!(
            added
                .iter()
                .any(|l| l.as_str().unwrap().contains("shard B was down")),
            "{added:?}"
        );
    }

    /// The proposed constraint, once a person adds it, is what makes the spec's own rules
    /// carry the alert — and the learning says so.
    #[test]
    fn the_proposed_constraint_adopted_gives_the_proposed_alert() {
        let record = incident(
            Some(analysis(
                0.0005,
                0.3,
                ("deploy", "the deploy of version 1.4.2"),
            )),
            Some("2026-12-01T03:40:00Z"),
        );
        let learned = learn_from(&spec_with(""), &record);
        let requirement = proposal(&learned, LearningKind::Constraint).draft["requirement"]
            .as_str()
            .unwrap()
            .to_string();
        let adopted = spec_with(&format!(
            "constraints:\n  reliability:\n    - name: Complete checkout success\n      requirement: {requirement}\n"
        ));
        let again = learn_from(&adopted, &record);
        assert!(again
            .proposals
            .iter()
            .all(|p| p.kind != LearningKind::Constraint));
        let alert = proposal(&again, LearningKind::AlertRule);
        assert!(
            alert.summary.contains("the spec's rules already carry it"),
            "{}",
            alert.summary
        );
    }

    #[test]
    fn an_attribute_the_failures_shared_becomes_a_scenario_for_it() {
        let spec = spec_with("");
        let record = incident(
            Some(analysis(
                0.0,
                0.2,
                ("attribute", "requests with db_shard = B fail"),
            )),
            None,
        );
        let learned = learn_from(&spec, &record);
        let scenario = proposal(&learned, LearningKind::Scenario);
        assert_eq!(scenario.key, "checkout.complete_checkout_with_db_shard_b");
        let draft = &scenario.draft["scenario"];
        assert_eq!(draft["name"], "Complete checkout with db_shard B");
        assert_eq!(
            draft["given"],
            json!(["A cart with one item", "the request's db_shard is B"])
        );
        assert_eq!(draft["then"], json!(["An order is created"]));
        assert!(draft["rationale"].as_str().unwrap().contains("incident #4"));
        // The proposal is valid as propose_scenarios takes it.
        let doc: sdd_spec::document::ProposedScenario =
            serde_json::from_value(draft.clone()).unwrap();
        assert_eq!(doc.name, "Complete checkout with db_shard B");
        // No failures at all before: the strictest target; no detected_at: said.
        let alert = proposal(&learned, LearningKind::AlertRule);
        assert_eq!(alert.draft["target_percent"], 99.99);
        assert!(
            alert.summary.contains("no detected_at"),
            "{}",
            alert.summary
        );
    }

    #[test]
    fn attribute_hypotheses_are_read_back_and_others_are_not() {
        let h = |kind: &str, cause: &str| Hypothesis {
            rank: 1,
            kind: kind.into(),
            cause: cause.into(),
            score: 0.5,
            evidence_for: Vec::new(),
            evidence_against: Vec::new(),
            verify: String::new(),
        };
        for (kind, cause, expected) in [
            (
                "attribute",
                "requests with db_shard = B fail",
                Some(("db_shard", "B")),
            ),
            (
                "attribute",
                "requests with user = u = 1 are refused",
                Some(("user", "u = 1")),
            ),
            (
                "attribute",
                "requests with decision.path = slow fail (a decision factor)",
                Some(("decision.path", "slow")),
            ),
            ("deploy", "requests with db_shard = B fail", None),
            ("attribute", "something else", None),
        ] {
            assert_eq!(
                attribute_of(&h(kind, cause)),
                expected.map(|(k, v)| (k.to_string(), v.to_string())),
                "{cause}"
            );
        }
    }

    /// Failures that stop before the alert would fire, a failure share too low to burn any
    /// condition, a record without analysis: each said, nothing claimed.
    #[test]
    fn what_cannot_be_claimed_is_said() {
        let spec = spec_with("");
        let mut short = incident(
            Some(analysis(0.0, 0.3, ("deploy", "x"))),
            Some("2026-12-01T03:40:00Z"),
        );
        // No failure before: a 99.99 % target, whose page alert needs 17 s of 30 % failing.
        short.incident.ended_at = Some("2026-12-01T03:12:10Z".into());
        let learned = learn_from(&spec, &short);
        let alert = proposal(&learned, LearningKind::AlertRule);
        assert!(
            alert.summary.contains("would not have fired"),
            "{}",
            alert.summary
        );
        assert!(alert.draft["earlier_by_seconds"].is_null());

        let slow = incident(Some(analysis(0.0, 0.00001, ("deploy", "x"))), None);
        let learned = learn_from(&spec, &slow);
        assert!(learned
            .proposals
            .iter()
            .all(|p| p.kind != LearningKind::AlertRule));
        assert!(
            learned
                .not_derived
                .iter()
                .any(|n| n.contains("no alert would have fired")),
            "{:?}",
            learned.not_derived
        );

        let bare = incident(None, None);
        let learned = learn_from(&spec, &bare);
        assert!(learned.not_derived[0].contains("without an analysis"));
        assert_eq!(learned.proposals.len(), 1);
        assert_eq!(learned.proposals[0].kind, LearningKind::RunbookUpdate);
    }
}

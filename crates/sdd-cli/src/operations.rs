//! The report's operations part after the scenario health board and the constraint console
//! (which `report.rs` draws from the monitoring server): the incidents recorded in the run
//! history, newest first, with the top hypotheses of the analysis each was recorded with and
//! the learnings proposed from it; and one transaction as a waterfall of its steps, asked of
//! the debugger server's `trace_transaction` — the one `sdd report --trace KEY` names, else the
//! one behind the latest incident's top hypothesis (the first event its evidence cites), else
//! none, and the section says how to choose one.

use std::fmt::Write;
use std::path::Path;

use sdd_debugger::incident::Hypothesis;
use sdd_debugger_server::TransactionResult;
use sdd_history::incidents::{IncidentRecord, LearningRecord};
use sdd_history::History;

use crate::session::{self, Server, Session};
use crate::svg::{escape, waterfall, Bar};
use crate::trace::{decision_text, key_of_example, lookup, outcome_text, step_label};

/// How many incidents the report lists.
const RECENT_INCIDENTS: usize = 10;
/// How many of each incident's hypotheses it shows.
const TOP_HYPOTHESES: usize = 3;

/// An incident as the report shows it: the record, its top hypotheses and its learnings, each
/// read on its own so that one that cannot be read is said beside the rest.
pub struct IncidentView {
    pub record: IncidentRecord,
    pub hypotheses: Result<Vec<Hypothesis>, String>,
    pub learnings: Result<Vec<LearningRecord>, String>,
}

/// The incidents of the history, newest first.
pub fn recent_incidents(history: &History) -> Result<Vec<IncidentView>, String> {
    let records = history
        .incidents(None, None, RECENT_INCIDENTS)
        .map_err(|e| e.to_string())?;
    Ok(records
        .into_iter()
        .map(|record| IncidentView {
            hypotheses: recorded_hypotheses(&record),
            learnings: history.learnings(record.id).map_err(|e| e.to_string()),
            record,
        })
        .collect())
}

/// The hypotheses of the analysis an incident was recorded with (`analyze_incident`'s
/// answer), ranked as the analysis ranked them; none when none was recorded with it.
pub fn recorded_hypotheses(record: &IncidentRecord) -> Result<Vec<Hypothesis>, String> {
    let Some(analysis) = &record.incident.analysis else {
        return Ok(Vec::new());
    };
    let list = analysis
        .get("hypotheses")
        .ok_or("its analysis has no `hypotheses`: it is not an analyze_incident answer")?;
    let mut hypotheses: Vec<Hypothesis> = serde_json::from_value(list.clone())
        .map_err(|e| format!("its analysis' hypotheses cannot be read: {e}"))?;
    hypotheses.sort_by_key(|h| h.rank);
    Ok(hypotheses)
}

/// The "Incidents" section; `recorded` is how many the history holds, when it could say.
pub fn incidents_section(
    incidents: &Result<Vec<IncidentView>, String>,
    recorded: Option<u64>,
) -> String {
    let mut out = String::from("<h2>Incidents</h2>");
    let incidents = match incidents {
        Ok(incidents) => incidents,
        Err(e) => {
            let _ = write!(
                out,
                "<p class=\"note\">The run history could not be read: {}</p>",
                escape(e)
            );
            return out;
        }
    };
    if incidents.is_empty() {
        out.push_str("<p class=\"note\">No incidents recorded in .sdd/history.sqlite3. The debugger server's record_incident stores one (its window, the analysis, the cause and resolution); `sdd incident` analyses one now.</p>");
        return out;
    }
    let _ = write!(
        out,
        "<p class=\"note\">{} of {} recorded in .sdd/history.sqlite3, the newest first (at most {RECENT_INCIDENTS} shown).</p>",
        incidents.len(),
        recorded.map_or("the".to_string(), |n| n.to_string())
    );
    for view in incidents {
        out.push_str(&incident_card(view));
    }
    out
}

fn incident_card(view: &IncidentView) -> String {
    let r = &view.record;
    let i = &r.incident;
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"incident\" id=\"incident-{}\"><h3>#{} {}</h3><p class=\"note\">started {}{} · recorded {} by {}{}</p>",
        r.id,
        r.id,
        escape(&i.title),
        escape(&i.started_at),
        i.ended_at
            .as_deref()
            .map(|e| format!(", ended {}", escape(e)))
            .unwrap_or_else(|| ", not ended".into()),
        escape(&r.recorded_at),
        escape(&i.recorded_by),
        if i.subjects.is_empty() {
            String::new()
        } else {
            format!(" · broke {}", escape(&i.subjects.join(", ")))
        }
    );
    let _ = write!(
        out,
        "<p><b>cause</b>: {}<br><b>resolution</b>: {}</p>",
        i.cause
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| "<span class=\"none\">not stated</span>".into()),
        i.resolution
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| "<span class=\"none\">not stated</span>".into()),
    );
    out.push_str(&hypotheses_list(i.analysis.is_some(), &view.hypotheses));
    match &view.learnings {
        Ok(learnings) if learnings.is_empty() => out.push_str(
            "<p class=\"note\">No learnings proposed from it yet (post_incident_learnings).</p>",
        ),
        Ok(learnings) => {
            out.push_str("<p>Learnings proposed from it:</p><ul>");
            for l in learnings {
                let _ = write!(
                    out,
                    "<li>{}: <code>{}</code> <small>(proposed {})</small></li>",
                    l.learning.kind.as_str(),
                    escape(&l.learning.key),
                    escape(&l.proposed_at)
                );
            }
            out.push_str("</ul>");
        }
        Err(e) => {
            let _ = write!(
                out,
                "<p class=\"note\">Its learnings could not be read: {}</p>",
                escape(e)
            );
        }
    }
    out.push_str("</section>");
    out
}

/// The top hypotheses of the recorded analysis, or why there are none to show.
fn hypotheses_list(analysed: bool, hypotheses: &Result<Vec<Hypothesis>, String>) -> String {
    match hypotheses {
        Err(e) => format!("<p class=\"note\">Hypotheses: {}</p>", escape(e)),
        Ok(_) if !analysed => {
            "<p class=\"note\">Recorded without an analysis: no hypotheses to show.</p>".into()
        }
        Ok(list) if list.is_empty() => {
            "<p class=\"note\">Its analysis ranked no hypothesis: nothing stood out above noise.</p>"
                .into()
        }
        Ok(list) => {
            let mut out = String::from("<p>Top hypotheses of its analysis:</p><ol class=\"hypotheses\">");
            for h in list.iter().take(TOP_HYPOTHESES) {
                let claim = h
                    .evidence_for
                    .first()
                    .map(|e| format!("<br><small>{}</small>", escape(&e.claim)))
                    .unwrap_or_default();
                let _ = write!(
                    out,
                    "<li value=\"{}\"><b>{}</b> <small>[{}, score {:.2}]</small>{claim}</li>",
                    h.rank,
                    escape(&h.cause),
                    escape(&h.kind),
                    h.score
                );
            }
            out.push_str("</ol>");
            if list.len() > TOP_HYPOTHESES {
                let _ = write!(
                    out,
                    "<p class=\"note\">and {} more in the recorded analysis.</p>",
                    list.len() - TOP_HYPOTHESES
                );
            }
            out
        }
    }
}

/// Which transaction the section shows, and why that one.
#[derive(Debug, PartialEq)]
pub enum Chosen {
    /// `--trace KEY`.
    Given(String),
    /// The event the latest incident's top hypothesis cites first.
    Cited {
        key: String,
        example: String,
        incident: i64,
        cause: String,
    },
    /// None, and why not.
    Nothing(String),
}

/// `--trace`, else the first event cited by the latest incident's top hypothesis (its key
/// read by `key_of`), else nothing with the reason.
pub fn choose(
    given: Option<&str>,
    incidents: &Result<Vec<IncidentView>, String>,
    key_of: impl Fn(&str) -> Result<String, String>,
) -> Chosen {
    if let Some(key) = given {
        return Chosen::Given(key.to_string());
    }
    let latest = match incidents {
        Ok(incidents) => match incidents.first() {
            Some(latest) => latest,
            None => return Chosen::Nothing("no incident is recorded".into()),
        },
        Err(_) => return Chosen::Nothing("the run history could not be read".into()),
    };
    let id = latest.record.id;
    let top = match &latest.hypotheses {
        Ok(list) => match list.first() {
            Some(top) => top,
            None => {
                return Chosen::Nothing(format!(
                    "the latest incident, #{id}, has no ranked hypothesis"
                ))
            }
        },
        Err(e) => return Chosen::Nothing(format!("the latest incident, #{id}: {e}")),
    };
    let Some(example) = top.evidence_for.iter().flat_map(|e| &e.examples).next() else {
        return Chosen::Nothing(format!(
            "the top hypothesis of the latest incident, #{id}, cites no event"
        ));
    };
    match key_of(example) {
        Ok(key) => Chosen::Cited {
            key,
            example: example.clone(),
            incident: id,
            cause: top.cause.clone(),
        },
        Err(e) => Chosen::Nothing(format!(
            "the top hypothesis of the latest incident, #{id}, cites {example}, whose transaction cannot be read: {e}"
        )),
    }
}

/// The "Transaction" section: the chosen transaction asked of the debugger server.
pub async fn transaction_section(
    root: &Path,
    given: Option<&str>,
    incidents: &Result<Vec<IncidentView>, String>,
) -> String {
    let chosen = choose(given, incidents, |example| key_of_example(root, example));
    let (key, why) = match &chosen {
        Chosen::Given(key) => (key.clone(), "chosen with --trace".to_string()),
        Chosen::Cited {
            key,
            example,
            incident,
            cause,
        } => (
            key.clone(),
            format!(
                "the transaction of the event at {example}, the first the top hypothesis of incident #{incident} ({cause}) cites"
            ),
        ),
        Chosen::Nothing(why) => {
            return format!(
                "<h2>Transaction</h2><p class=\"note\">No transaction chosen: {}. Choose one with <code>sdd report --trace KEY</code> (a trace ID, or a business key such as task_id=42); <code>sdd trace KEY</code> prints it in a terminal.</p>",
                escape(why)
            )
        }
    };
    let answer = async {
        let session = Session::open(Server::Debugger, session::project(root, None)?).await?;
        let answer = lookup(&session, &key).await;
        session.close().await;
        answer
    }
    .await;
    match answer {
        Ok(result) => transaction_view(&key, &why, &result),
        Err(e) => format!(
            "<h2>Transaction</h2><p class=\"note\">{} ({}): trace_transaction could not answer: {}</p>",
            escape(&key),
            escape(&why),
            escape(&e)
        ),
    }
}

/// One transaction: its summary, the waterfall of its steps and the same steps as a table.
pub fn transaction_view(key: &str, why: &str, result: &TransactionResult) -> String {
    let t = &result.transaction;
    let mut out = String::new();
    let _ = write!(
        out,
        "<h2>Transaction</h2><p class=\"headline\">{}</p><p class=\"note\">{} — {}</p>",
        escape(&result.summary),
        escape(key),
        escape(why)
    );
    if t.steps.is_empty() {
        for note in &result.notes {
            let _ = write!(out, "<p class=\"note\">{}</p>", escape(note));
        }
        return out;
    }
    let bars: Vec<Bar> = t
        .steps
        .iter()
        .map(|s| Bar {
            label: step_label(s),
            depth: s.depth,
            offset_ms: s.offset_ms,
            duration_ms: s.duration_ms,
            outcome: s.outcome.map(|o| o.word().to_string()).unwrap_or_default(),
            tooltip: format!(
                "+{:.3} ms{} · {} · {}{}",
                s.offset_ms,
                s.duration_ms
                    .map(|d| format!(", {d:.3} ms"))
                    .unwrap_or_default(),
                outcome_text(s),
                decision_text(s),
                s.source
                    .as_deref()
                    .map(|f| format!(" · {f}"))
                    .unwrap_or_default()
            ),
        })
        .collect();
    out.push_str(&waterfall(
        &bars,
        t.duration_ms,
        &format!("{} — its steps over {:.1} ms", t.found_by, t.duration_ms),
    ));
    out.push_str("<table class=\"steps\"><tr><th>offset</th><th>duration</th><th>step</th><th>outcome</th><th>decision</th><th>from</th></tr>");
    for s in &t.steps {
        let _ = write!(
            out,
            "<tr><td class=\"num nw\">+{:.3} ms</td><td class=\"num nw\">{}</td><td style=\"padding-left:{}px\">{}</td><td>{}</td><td>{}</td><td><small>{}</small></td></tr>",
            s.offset_ms,
            s.duration_ms
                .map(|d| format!("{d:.3} ms"))
                .unwrap_or_else(|| "-".into()),
            8 + 16 * s.depth.min(8),
            escape(&step_label(s)),
            escape(&outcome_text(s)),
            escape(&decision_text(s)),
            escape(s.source.as_deref().unwrap_or_default())
        );
    }
    out.push_str("</table>");
    for note in t.problems.iter().chain(&result.notes) {
        let _ = write!(out, "<p class=\"note\">{}</p>", escape(note));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdd_debugger::incident::Evidence;
    use sdd_history::incidents::{Learning, LearningKind, NewIncident};
    use serde_json::json;

    fn record(id: i64, analysis: Option<serde_json::Value>) -> IncidentRecord {
        IncidentRecord {
            id,
            recorded_at: "2026-12-01T04:00:00Z".into(),
            incident: NewIncident {
                title: "Checkout <failing>".into(),
                started_at: "2026-12-01T03:12:00Z".into(),
                subjects: vec!["shop.complete_an_order".into()],
                analysis,
                recorded_by: "Ada".into(),
                ..NewIncident::default()
            },
        }
    }

    fn hypothesis(rank: usize, cause: &str, examples: &[&str]) -> Hypothesis {
        Hypothesis {
            rank,
            kind: "deploy".into(),
            cause: cause.into(),
            score: 0.9,
            evidence_for: vec![Evidence {
                claim: "first seen 0 s before the onset".into(),
                figures: Default::default(),
                source: "events".into(),
                examples: examples.iter().map(|e| e.to_string()).collect(),
            }],
            evidence_against: Vec::new(),
            verify: "roll back".into(),
        }
    }

    fn view(id: i64, hypotheses: Vec<Hypothesis>) -> IncidentView {
        let analysis = json!({ "hypotheses": hypotheses });
        let record = record(id, Some(analysis));
        IncidentView {
            hypotheses: recorded_hypotheses(&record),
            learnings: Ok(Vec::new()),
            record,
        }
    }

    #[test]
    fn recorded_hypotheses_come_ranked_or_say_why_not() {
        let two = json!({"hypotheses": [hypothesis(2, "b", &[]), hypothesis(1, "a", &[])]});
        let ranked = recorded_hypotheses(&record(1, Some(two))).unwrap();
        assert_eq!(ranked.iter().map(|h| h.rank).collect::<Vec<_>>(), [1, 2]);
        assert!(recorded_hypotheses(&record(1, None)).unwrap().is_empty());
        let e = recorded_hypotheses(&record(1, Some(json!({"headline": "x"})))).unwrap_err();
        assert!(e.contains("not an analyze_incident answer"), "{e}");
        let e = recorded_hypotheses(&record(1, Some(json!({"hypotheses": [{"rank": "one"}]}))))
            .unwrap_err();
        assert!(e.contains("cannot be read"), "{e}");
    }

    #[test]
    fn the_transaction_is_given_else_cited_else_none_with_why() {
        let key_of = |example: &str| -> Result<String, String> {
            match example {
                "logs/e.jsonl:7" => Ok("trace:abc".into()),
                other => Err(format!("{other} is gone")),
            }
        };
        let cited = Ok(vec![
            view(3, vec![hypothesis(1, "the deploy", &["logs/e.jsonl:7"])]),
            view(2, vec![hypothesis(1, "older", &["logs/e.jsonl:1"])]),
        ]);
        let table = [
            (Some("task_id=4"), &cited, Chosen::Given("task_id=4".into())),
            (
                None,
                &cited,
                Chosen::Cited {
                    key: "trace:abc".into(),
                    example: "logs/e.jsonl:7".into(),
                    incident: 3,
                    cause: "the deploy".into(),
                },
            ),
            (None, &Ok(Vec::new()), Chosen::Nothing("no incident is recorded".into())),
            (
                None,
                &Ok(vec![view(5, Vec::new())]),
                Chosen::Nothing("the latest incident, #5, has no ranked hypothesis".into()),
            ),
            (
                None,
                &Ok(vec![view(6, vec![hypothesis(1, "x", &[])])]),
                Chosen::Nothing("the top hypothesis of the latest incident, #6, cites no event".into()),
            ),
            (
                None,
                &Ok(vec![view(7, vec![hypothesis(1, "x", &["logs/e.jsonl:9"])])]),
                Chosen::Nothing("the top hypothesis of the latest incident, #7, cites logs/e.jsonl:9, whose transaction cannot be read: logs/e.jsonl:9 is gone".into()),
            ),
            (
                None,
                &Err("locked".into()),
                Chosen::Nothing("the run history could not be read".into()),
            ),
        ];
        for (given, incidents, expected) in table {
            assert_eq!(choose(given, incidents, key_of), expected);
        }
    }

    #[test]
    fn the_incidents_section_says_what_there_is() {
        let none = incidents_section(&Ok(Vec::new()), Some(0));
        assert!(none.contains("No incidents recorded"), "{none}");
        let unread = incidents_section(&Err("newer <file>".into()), None);
        assert!(
            unread.contains("could not be read: newer &lt;file&gt;"),
            "{unread}"
        );

        let many: Vec<Hypothesis> = (1..=5)
            .map(|r| hypothesis(r, &format!("cause {r}"), &[]))
            .collect();
        let mut with_learning = view(4, many);
        with_learning.learnings = Ok(vec![LearningRecord {
            incident_id: 4,
            proposed_at: "2026-12-01T05:00:00Z".into(),
            learning: Learning {
                kind: LearningKind::AlertRule,
                key: "CheckoutFailing".into(),
                draft: json!({}),
            },
        }]);
        let html = incidents_section(&Ok(vec![with_learning, view(1, Vec::new())]), Some(12));
        for part in [
            "2 of 12 recorded in .sdd/history.sqlite3, the newest first",
            "<h3>#4 Checkout &lt;failing&gt;</h3>",
            "broke shop.complete_an_order",
            "<b>cause</b>: <span class=\"none\">not stated</span>",
            "<li value=\"1\"><b>cause 1</b> <small>[deploy, score 0.90]</small>",
            "and 2 more in the recorded analysis",
            "alert_rule: <code>CheckoutFailing</code>",
            "<h3>#1 Checkout &lt;failing&gt;</h3>",
            "Its analysis ranked no hypothesis",
            "No learnings proposed from it yet",
        ] {
            assert!(html.contains(part), "{part}\n{html}");
        }
        assert!(!html.contains("cause 4"), "only the top three: {html}");
        let mut bare = view(9, Vec::new());
        bare.record.incident.analysis = None;
        bare.hypotheses = recorded_hypotheses(&bare.record);
        let html = incidents_section(&Ok(vec![bare]), None);
        assert!(html.contains("Recorded without an analysis"), "{html}");
    }
}

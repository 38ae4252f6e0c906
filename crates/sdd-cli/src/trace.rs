//! `sdd trace KEY`: the debugger server's `trace_transaction`, printed step by step — the
//! time since the transaction's first event, the step indented by its depth in the span tree,
//! its duration, its outcome and decision, and the line it was read from; then the spans whose
//! parent was missing or that formed a cycle, as the tool names them. `--format json` prints
//! the tool's answer as it is. The report's transaction view asks the same tool.

use std::process::ExitCode;

use serde_json::json;

use sdd_debugger::trace::Step;
use sdd_debugger_server::TransactionResult;

use crate::cli::{Format, TraceArgs};
use crate::say;
use crate::session::{self, Server, Session};
use crate::table::Table;

pub async fn run(args: &TraceArgs) -> Result<ExitCode, String> {
    let root = args.project.root()?;
    let session = Session::open(Server::Debugger, session::project(&root, None)?).await?;
    let answer = lookup_raw(&session, &args.key, args.limit).await;
    session.close().await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(refusal) => {
            eprintln!("trace_transaction: {refusal}");
            return Ok(ExitCode::from(1));
        }
    };
    let result: TransactionResult = serde_json::from_value(answer.clone())
        .map_err(|e| format!("trace_transaction answered in a form this sdd cannot read: {e}"))?;
    match args.format {
        Format::Json => say(&format!(
            "{}\n",
            serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?
        )),
        Format::Text => say(&render(&result)),
    }
    Ok(if result.transaction.steps_total == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn lookup_raw(
    session: &Session,
    key: &str,
    limit: Option<usize>,
) -> Result<serde_json::Value, String> {
    let mut arguments = json!({ "key": key });
    if let Some(limit) = limit {
        arguments["limit"] = json!(limit);
    }
    session.call("trace_transaction", arguments).await
}

/// The transaction for a terminal: the summary, a row per step, then what did not fit.
pub fn render(result: &TransactionResult) -> String {
    let t = &result.transaction;
    let mut out = format!("{}: {}\n", t.found_by, result.summary);
    if !t.traces.is_empty() {
        out.push_str(&format!("  traces: {}\n", t.traces.join(", ")));
    }
    if !t.steps.is_empty() {
        out.push('\n');
        let mut table = Table::new(&["offset", "duration", "step", "outcome", "decision", "from"]);
        for s in &t.steps {
            table.row(vec![
                format!("+{:.3} ms", s.offset_ms),
                s.duration_ms
                    .map(|d| format!("{d:.3} ms"))
                    .unwrap_or_else(|| "-".into()),
                format!("{}{}", "  ".repeat(s.depth), step_label(s)),
                outcome_text(s),
                decision_text(s),
                s.source.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&table.render());
    }
    for problem in &t.problems {
        out.push_str(&format!("  note: {problem}\n"));
    }
    for note in &result.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    if t.steps_total == 0 && !result.sources.is_empty() {
        let sources: Vec<&str> = result.sources.iter().map(|s| s.file.as_str()).collect();
        out.push_str(&format!("  searched: {}\n", sources.join(", ")));
    }
    out
}

/// What a step is: its name (`shop.create_an_order.2_store`), with the scenario and step
/// when the name does not carry them; a nameless event by its message.
pub fn step_label(s: &Step) -> String {
    let place = match (&s.scenario, &s.step) {
        (Some(scenario), Some(step)) => Some(format!("{scenario} / {step}")),
        (Some(scenario), None) => Some(scenario.clone()),
        (None, Some(step)) => Some(step.clone()),
        (None, None) => None,
    };
    let name = s.name.as_deref().or(s.message.as_deref());
    let label = match (name, place) {
        (Some(name), Some(place)) => {
            let has = |part: &Option<String>| part.as_deref().is_none_or(|p| name.contains(p));
            match (has(&s.scenario), has(&s.step), &s.step) {
                (true, true, _) => name.to_string(),
                (true, false, Some(step)) => format!("{name} [{step}]"),
                _ => format!("{name} [{place}]"),
            }
        }
        (Some(name), None) => name.to_string(),
        (None, Some(place)) => place,
        (None, None) => format!("({})", kind_word(s)),
    };
    match &s.constraint {
        Some(constraint) => format!("{label} ({constraint})"),
        None => label,
    }
}

fn kind_word(s: &Step) -> &'static str {
    match s.kind {
        sdd_debugger::event::EventKind::Span => "span",
        sdd_debugger::event::EventKind::Log => "event",
    }
}

/// `failure: expected 201, got 500`; `-` when the step records no outcome.
pub fn outcome_text(s: &Step) -> String {
    let word = s.outcome.map(|o| o.word().to_string());
    let expected = match (&s.expected_outcome, &s.actual_outcome) {
        (Some(e), Some(a)) => Some(format!("expected {e}, got {a}")),
        (Some(e), None) => Some(format!("expected {e}")),
        (None, Some(a)) => Some(format!("got {a}")),
        (None, None) => None,
    };
    match (word, expected) {
        (Some(w), Some(e)) => format!("{w}: {e}"),
        (Some(w), None) => w,
        (None, Some(e)) => e,
        (None, None) => "-".into(),
    }
}

/// The business rule and the factors the step decided on: `rule: payment=voucher`.
pub fn decision_text(s: &Step) -> String {
    let factors: Vec<String> = s
        .decision_factors
        .iter()
        .map(|(k, v)| format!("{k}={}", sdd_debugger::event::value_text(v)))
        .collect();
    let mut parts = Vec::new();
    if let Some(rule) = &s.business_rule {
        parts.push(rule.clone());
    }
    if !factors.is_empty() {
        parts.push(factors.join(" "));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdd_debugger::event::{EventKind, Outcome};

    fn step(name: Option<&str>, scenario: Option<&str>, step: Option<&str>) -> Step {
        Step {
            at: "2026-11-30T00:00:00Z".into(),
            offset_ms: 0.0,
            kind: EventKind::Span,
            depth: 0,
            name: name.map(Into::into),
            scenario: scenario.map(Into::into),
            step: step.map(Into::into),
            constraint: None,
            business_rule: None,
            expected_outcome: None,
            actual_outcome: None,
            outcome: None,
            decision_factors: Default::default(),
            message: None,
            duration_ms: None,
            trace_id: None,
            span_id: None,
            service_version: None,
            source: None,
        }
    }

    #[test]
    fn a_step_is_named_once_with_its_scenario_when_the_name_lacks_it() {
        let table = [
            (
                step(
                    Some("shop.create.2_store"),
                    Some("shop.create"),
                    Some("2_store"),
                ),
                "shop.create.2_store",
            ),
            (
                step(Some("db.insert"), Some("shop.create"), Some("2_store")),
                "db.insert [shop.create / 2_store]",
            ),
            (
                step(
                    Some("shop.create.decide"),
                    Some("shop.create"),
                    Some("2_store"),
                ),
                "shop.create.decide [2_store]",
            ),
            (step(Some("request"), None, None), "request"),
            (step(None, Some("shop.create"), None), "shop.create"),
            (step(None, None, None), "(span)"),
        ];
        for (s, label) in table {
            assert_eq!(step_label(&s), label);
        }
        let mut refused = step(Some("rate_limit.admit"), None, None);
        refused.constraint = Some("shop.security.rate_limiting".into());
        assert_eq!(
            step_label(&refused),
            "rate_limit.admit (shop.security.rate_limiting)"
        );
    }

    #[test]
    fn outcomes_and_decisions_say_what_was_decided() {
        let mut s = step(None, None, None);
        assert_eq!(
            (outcome_text(&s), decision_text(&s)),
            ("-".into(), "-".into())
        );
        s.outcome = Some(Outcome::Failure);
        s.expected_outcome = Some("201".into());
        s.actual_outcome = Some("500".into());
        s.business_rule = Some("vouchers need a balance".into());
        s.decision_factors
            .insert("payment".into(), serde_json::json!("voucher"));
        s.decision_factors
            .insert("amount".into(), serde_json::json!(12));
        assert_eq!(outcome_text(&s), "failure: expected 201, got 500");
        assert_eq!(
            decision_text(&s),
            "vouchers need a balance: amount=12 payment=voucher"
        );
    }
}

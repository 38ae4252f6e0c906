//! `sdd trace KEY`: the debugger server's `trace_transaction`, printed step by step — the
//! time since the transaction's first event, the step indented by its depth in the span tree,
//! its duration, its outcome and decision, and the line it was read from; then the spans whose
//! parent was missing or that formed a cycle, as the tool names them. `--format json` prints
//! the tool's answer as it is. The report's transaction view asks the same tool.

use std::io::Read;
use std::path::Path;
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

/// `trace_transaction` for `key` on an open debugger session, as its typed answer.
pub async fn lookup(session: &Session, key: &str) -> Result<TransactionResult, String> {
    let answer = lookup_raw(session, key, None).await?;
    serde_json::from_value(answer)
        .map_err(|e| format!("trace_transaction answered in a form this sdd cannot read: {e}"))
}

/// The transaction key of the event at `example` (`logs/events.jsonl:16644`, as evidence
/// cites events): its trace ID, else the first business key of sdd.yaml it carries. The line
/// is read from the source sdd.yaml names with that path, in that source's format and fields,
/// so it is the event the analysis read.
pub fn key_of_example(root: &Path, example: &str) -> Result<String, String> {
    let (name, line) = example
        .rsplit_once(':')
        .and_then(|(name, line)| Some((name, line.parse::<u64>().ok()?)))
        .ok_or_else(|| format!("`{example}` is not a file:line"))?;
    let file = if root.join(sdd_spec::project::PROJECT_FILE).exists() {
        sdd_spec::project::load_project_file(root)
    } else {
        sdd_spec::project::parse_project_file("{}")
    }
    .map_err(|d| format!("sdd.yaml: {}", d.message))?;
    let (sources, _) = sdd_debugger::read::sources_of(&file, root);
    let source = sources
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("{name} is not a source of sdd.yaml (any more)"))?;
    let text = nth_line(&source.path, line)?;
    let mut first = None;
    let _ = sdd_debugger::read::read_from(
        text.as_bytes(),
        name,
        source.format,
        &source.fields,
        &sdd_debugger::read::ReadOptions::default(),
        &mut |event| {
            first.get_or_insert(event);
        },
        &mut |_| {},
    );
    let event = first.ok_or_else(|| format!("{example} is not an event SDD can read"))?;
    if let Some(trace) = &event.trace_id {
        return Ok(format!("trace:{trace}"));
    }
    file.debugger
        .business_keys
        .iter()
        .find_map(|key| Some(format!("{key}={}", event.dimension(key)?)))
        .ok_or_else(|| {
            format!("the event at {example} carries no trace ID and none of debugger.business_keys")
        })
}

/// Line `number` (1-based) of a regular file, read no further than it; a line over the
/// readers' limit is refused rather than held.
fn nth_line(path: &Path, number: u64) -> Result<String, String> {
    use std::io::BufRead;
    let shown = path.display();
    let metadata = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if !metadata.is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut reader = std::io::BufReader::new(file);
    let mut buffer = Vec::new();
    for at in 1..=number {
        buffer.clear();
        let read = (&mut reader)
            .take(sdd_debugger::read::MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buffer)
            .map_err(|e| format!("{shown}: {e}"))?;
        if read == 0 {
            return Err(format!("{shown} has {} lines, not {number}", at - 1));
        }
        if read > sdd_debugger::read::MAX_LINE_BYTES {
            return Err(format!("{shown}:{at} is longer than a line SDD reads"));
        }
    }
    Ok(String::from_utf8_lossy(&buffer).into_owned())
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
    fn a_cited_event_gives_its_trace_else_its_business_key_else_why_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("logs")).unwrap();
        std::fs::write(
            root.join("sdd.yaml"),
            "debugger:\n  sources:\n    - {path: logs/e.jsonl, format: json_lines}\n  business_keys: [order_id]\n",
        )
        .unwrap();
        let trace = "0123456789abcdef0123456789abcdef";
        std::fs::write(
            root.join("logs/e.jsonl"),
            format!(
                "{{\"timestamp\": \"2026-12-01T03:00:00Z\", \"event\": \"a\", \"trace_id\": \"{trace}\"}}\n\
                 {{\"timestamp\": \"2026-12-01T03:00:01Z\", \"event\": \"b\", \"attributes\": {{\"order_id\": \"42\"}}}}\n\
                 {{\"timestamp\": \"2026-12-01T03:00:02Z\", \"event\": \"c\"}}\n\
                 not json\n"
            ),
        )
        .unwrap();
        let table: [(&str, Result<String, &str>); 7] = [
            ("logs/e.jsonl:1", Ok(format!("trace:{trace}"))),
            ("logs/e.jsonl:2", Ok("order_id=42".into())),
            (
                "logs/e.jsonl:3",
                Err("carries no trace ID and none of debugger.business_keys"),
            ),
            ("logs/e.jsonl:4", Err("is not an event SDD can read")),
            ("logs/e.jsonl:9", Err("has 4 lines, not 9")),
            ("logs/other.jsonl:1", Err("is not a source of sdd.yaml")),
            ("logs/e.jsonl", Err("is not a file:line")),
        ];
        for (example, expected) in table {
            match (key_of_example(root, example), expected) {
                (Ok(key), Ok(expected)) => assert_eq!(key, expected, "{example}"),
                (Err(e), Err(expected)) => assert!(e.contains(expected), "{example}: {e}"),
                (got, expected) => panic!("{example}: {got:?}, expected {expected:?}"),
            }
        }
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

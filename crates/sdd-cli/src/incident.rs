//! `sdd incident`: the debugger server's `analyze_incident`, run in this process over a pipe
//! (as `sdd call debugger analyze_incident` would), printed for people — the headline, the
//! windows and the onset, what broke, the hypotheses ranked with their evidence for and
//! against, the symptoms, what could not be reached and the sources read. `--format json`
//! prints the tool's answer as it is. The words and numbers are the tool's; this module only
//! lays them out.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde_json::{json, Map, Value};

use sdd_debugger::incident::{Broken, Evidence, Hypothesis};
use sdd_debugger::read::ReadReport;
use sdd_debugger_server::IncidentResult;

use crate::cli::{Format, IncidentArgs};
use crate::say;
use crate::session::{self, Server, Session};
use crate::table::Table;

/// The figures shown under a claim at most; the JSON has them all.
const MAX_FIGURES: usize = 6;

pub async fn run(args: &IncidentArgs) -> Result<ExitCode, String> {
    let root = args.project.root()?;
    let mut arguments = Map::new();
    for (name, value) in [
        ("since", &args.since),
        ("start", &args.start),
        ("end", &args.end),
    ] {
        if let Some(value) = value {
            arguments.insert(name.into(), json!(value));
        }
    }
    if let Some(max) = args.max {
        arguments.insert("max_hypotheses".into(), json!(max));
    }
    let session = Session::open(Server::Debugger, session::project(&root, None)?).await?;
    session.progress.set_step("analyze_incident");
    let answer = session
        .call("analyze_incident", Value::Object(arguments))
        .await;
    session.close().await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(refusal) => {
            eprintln!("analyze_incident: {refusal}");
            return Ok(ExitCode::from(1));
        }
    };
    match args.format {
        Format::Json => say(&format!(
            "{}\n",
            serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?
        )),
        Format::Text => {
            let result: IncidentResult = serde_json::from_value(answer).map_err(|e| {
                format!("analyze_incident answered in a form this sdd cannot read: {e}")
            })?;
            say(&render(&result));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The answer for a terminal: sections in the order a person reads an incident.
pub fn render(result: &IncidentResult) -> String {
    let report = &result.report;
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(report.headline.clone());
    if report.events == 0 {
        // Nothing was read: no windows, nothing broke or explained; only why, and from where.
        line("  no events were read, so nothing was analysed".into());
    } else {
        analysed(result, &mut line);
    }

    line(String::new());
    if report.not_reached.is_empty() && result.notes.is_empty() {
        line(
            "not reached: nothing — every source, the metrics, git and the run history were read"
                .into(),
        );
    } else {
        line("not reached".into());
        for what in report.not_reached.iter().chain(&result.notes) {
            line(format!("  - {what}"));
        }
    }

    line(String::new());
    if result.sources.is_empty() {
        line("sources read: none".into());
    } else {
        line("sources read".into());
        push_lines(&mut line, &sources_table(&result.sources));
    }
    out
}

/// The sections of an analysis that read events: windows, what broke, hypotheses, symptoms,
/// changes, metric shifts and log templates.
fn analysed(result: &IncidentResult, line: &mut impl FnMut(String)) {
    let report = &result.report;
    let w = &report.windows;
    line(String::new());
    line(format!(
        "windows ({} events read, in bins of {} s)",
        report.events,
        number(w.bin_seconds)
    ));
    line(format!(
        "  baseline  {} → {}",
        w.baseline_start, w.baseline_end
    ));
    line(format!(
        "  incident  {} → {}",
        w.incident_start, w.incident_end
    ));
    match &w.onset {
        Some(onset) => line(format!("  onset     {onset} — {}", w.onset_method)),
        None => line(format!("  onset     none found — {}", w.onset_method)),
    }

    line(String::new());
    if report.broke.is_empty() {
        line("what broke: nothing significantly worse than the baseline".into());
    } else {
        line(format!("what broke ({})", report.broke.len()));
        let mut table = Table::new(&["subject", "what", "before → after", "since"]);
        for b in &report.broke {
            table.row(vec![
                b.subject.clone(),
                b.what.clone(),
                before_after(b),
                b.since.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        push_lines(line, &table.render());
        for b in &report.broke {
            line(format!("  {}", b.evidence.claim));
        }
    }

    line(String::new());
    if report.hypotheses.is_empty() {
        line("hypotheses: none above noise — nothing is claimed".into());
    } else {
        line(format!(
            "hypotheses ({}), the most likely first",
            report.hypotheses.len()
        ));
        for h in &report.hypotheses {
            push_lines(line, &hypothesis(h));
        }
    }
    if !report.below_noise.is_empty() {
        line(format!(
            "  below noise (considered, not claimed): {}",
            report.below_noise.join("; ")
        ));
    }

    if !report.symptoms.is_empty() {
        line(String::new());
        line("symptoms (changes after the onset: consequences, never causes)".into());
        for s in &report.symptoms {
            line(format!(
                "  - {} since {} ({} s after the onset)",
                s.what,
                s.since,
                number(s.after_onset_seconds)
            ));
        }
    }
    if !report.changes_before_onset.is_empty() {
        line(String::new());
        line("changes before the onset".into());
        for c in &report.changes_before_onset {
            line(format!(
                "  - {} {}: {} ({})",
                sdd_debugger::incident::rfc3339(c.at),
                c.kind,
                c.description,
                c.source
            ));
        }
    }
    if !report.metric_shifts.is_empty() {
        line(String::new());
        line("metric shifts".into());
        for m in &report.metric_shifts {
            line(format!(
                "  - {}: median {} → {} (robust z {:.1}, p {}){}",
                m.series,
                number(m.baseline_median),
                number(m.incident_median),
                m.score,
                number(m.p_value),
                m.since
                    .as_deref()
                    .map(|s| format!(" since {s}"))
                    .unwrap_or_default()
            ));
        }
    }
    if !result.risen_log_templates.is_empty() {
        line(String::new());
        line("log templates risen in the incident window".into());
        for t in &result.risen_log_templates {
            let change = match t.ratio {
                Some(ratio) => format!(
                    "×{} ({} → {} lines)",
                    number(ratio),
                    t.baseline_count,
                    t.current_count
                ),
                None => format!("new ({} lines)", t.current_count),
            };
            line(format!("  - `{}` {change}", t.template));
        }
    }
}

/// A table row per source, with the first line it could not read and why.
fn sources_table(sources: &[ReadReport]) -> String {
    let mut table = Table::new(&["file", "format", "lines", "events", "skipped"]);
    for s in sources {
        let skipped = match s.skipped_examples.first() {
            Some(first) => format!("{} (line {}: {})", s.skipped, first.line, first.reason),
            None => s.skipped.to_string(),
        };
        table.row(vec![
            s.file.clone(),
            s.format.clone(),
            s.lines.to_string(),
            s.events.to_string(),
            skipped,
        ]);
    }
    table.render()
}

/// `0.3 % → 25.5 %` for shares, `1.2 ms → 84.0 ms` for a step's duration.
pub fn before_after(b: &Broken) -> String {
    if b.kind == "step_latency" {
        format!("{:.1} ms → {:.1} ms", b.before, b.after)
    } else {
        format!("{} → {}", percent(b.before), percent(b.after))
    }
}

fn percent(share: f64) -> String {
    if share > 0.0 && share < 0.001 {
        format!("{:.2} %", share * 100.0)
    } else {
        format!("{:.1} %", share * 100.0)
    }
}

/// One hypothesis: its rank and cause, each piece of evidence with its key figures and the
/// lines behind it, and how to check it.
pub fn hypothesis(h: &Hypothesis) -> String {
    let mut out = format!(
        "  {}. {}  [{}, score {:.2}]\n",
        h.rank, h.cause, h.kind, h.score
    );
    for (word, list) in [("for", &h.evidence_for), ("against", &h.evidence_against)] {
        for e in list {
            out.push_str(&format!("     {word:<8} {}\n", e.claim));
            let detail = evidence_detail(e);
            if !detail.is_empty() {
                out.push_str(&format!("              {detail}\n"));
            }
        }
    }
    if h.evidence_against.is_empty() {
        out.push_str("     against  nothing found\n");
    }
    out.push_str(&format!("     verify   {}\n", h.verify));
    out
}

/// The figures a claim rests on and the first line that shows it: `p_value 1.4e-74 ·
/// outcomes_on_version 543 · logs/events.jsonl:16644`.
pub fn evidence_detail(e: &Evidence) -> String {
    let mut parts = key_figures(&e.figures);
    if let Some(first) = e.examples.first() {
        let more = e.examples.len() - 1;
        parts.push(if more > 0 {
            format!("{first} (+{more})")
        } else {
            first.clone()
        });
    }
    parts.join(" · ")
}

/// At most [`MAX_FIGURES`] figures, the p-value first (what makes a claim a claim).
pub fn key_figures(figures: &BTreeMap<String, f64>) -> Vec<String> {
    let p = figures
        .iter()
        .filter(|(name, _)| name.as_str() == "p_value");
    let rest = figures
        .iter()
        .filter(|(name, _)| name.as_str() != "p_value");
    let mut shown: Vec<String> = p
        .chain(rest)
        .take(MAX_FIGURES)
        .map(|(name, value)| format!("{name} {}", number(*value)))
        .collect();
    if figures.len() > MAX_FIGURES {
        shown.push(format!(
            "{} more in --format json",
            figures.len() - MAX_FIGURES
        ));
    }
    shown
}

/// A figure as people read it: whole numbers whole, tiny p-values in scientific notation,
/// the rest to three significant digits.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == value.trunc() && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    if value.abs() < 1e-3 {
        return format!("{value:.1e}");
    }
    let digits = (2 - value.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let text = format!("{value:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A rendered table, each line through `line`.
pub fn push_lines(line: &mut impl FnMut(String), text: &str) {
    for row in text.lines() {
        line(row.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_read_them() {
        for (value, shown) in [
            (543.0, "543"),
            (0.0, "0"),
            (0.2541436464088398, "0.254"),
            (0.003144654088050314, "0.00314"),
            (1.4082061618911874e-74, "1.4e-74"),
            (25.46, "25.5"),
            (1234.5678, "1235"),
            (-0.5, "-0.5"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(number(value), shown, "{value}");
        }
    }

    fn evidence(figures: &[(&str, f64)], examples: &[&str]) -> Evidence {
        Evidence {
            claim: "c".into(),
            figures: figures.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            source: "s".into(),
            examples: examples.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn evidence_shows_the_p_value_first_and_its_first_line() {
        let e = evidence(
            &[("outcomes", 543.0), ("p_value", 1.4e-74), ("a_rate", 0.25)],
            &["logs/events.jsonl:16644", "logs/events.jsonl:16752"],
        );
        assert_eq!(
            evidence_detail(&e),
            "p_value 1.4e-74 · a_rate 0.25 · outcomes 543 · logs/events.jsonl:16644 (+1)"
        );
        let many: Vec<(String, f64)> = (0..9).map(|i| (format!("f{i}"), i as f64)).collect();
        let many: Vec<(&str, f64)> = many.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let shown = key_figures(&evidence(&many, &[]).figures);
        assert_eq!(shown.len(), MAX_FIGURES + 1);
        assert_eq!(shown.last().unwrap(), "3 more in --format json");
        assert_eq!(evidence_detail(&evidence(&[], &[])), "");
    }

    fn broken(kind: &str, before: f64, after: f64) -> Broken {
        Broken {
            kind: kind.into(),
            subject: "s".into(),
            what: "w".into(),
            before,
            after,
            since: None,
            evidence: evidence(&[], &[]),
        }
    }

    #[test]
    fn shares_are_percentages_and_steps_milliseconds() {
        for (b, shown) in [
            (broken("scenario", 0.0031, 0.2546), "0.3 % → 25.5 %"),
            (broken("constraint", 0.0, 0.5), "0.0 % → 50.0 %"),
            (broken("scenario", 0.0004, 0.01), "0.04 % → 1.0 %"),
            (broken("step_latency", 1.23, 81.5), "1.2 ms → 81.5 ms"),
        ] {
            assert_eq!(before_after(&b), shown);
        }
    }

    #[test]
    fn a_hypothesis_without_evidence_against_says_so() {
        let h = Hypothesis {
            rank: 1,
            kind: "deploy".into(),
            cause: "the deploy of version 2.1.0".into(),
            score: 1.0,
            evidence_for: vec![evidence(&[("p_value", 1e-9)], &["f:1"])],
            evidence_against: Vec::new(),
            verify: "roll back".into(),
        };
        assert_eq!(
            hypothesis(&h),
            "  1. the deploy of version 2.1.0  [deploy, score 1.00]\n     for      c\n              p_value 1.0e-9 · f:1\n     against  nothing found\n     verify   roll back\n"
        );
    }
}

//! The debugger server's tools, one module per group: `incidents.rs` (analyze_incident),
//! `transactions.rs` (trace_transaction), `logs.rs` (log_patterns), `records.rs`
//! (record_incident, list_incidents, post_incident_learnings), `runbooks.rs`
//! (generate_runbook), `hotfix.rs` (draft_hotfix) and `whatif.rs` (what_if). The analyses and
//! what_if only read the project's files and metric source. The records write the run history;
//! generate_runbook writes a runbook file when asked; draft_hotfix writes one proposal into
//! the spec (and a new test file when asked); post_incident_learnings writes proposals only
//! with `propose: true`. Nothing is approved or applied.

mod hotfix;
mod incidents;
mod logs;
mod records;
mod runbooks;
mod transactions;
mod whatif;

pub use hotfix::DraftHotfixResult;
pub use incidents::IncidentResult;
pub use logs::PatternsResult;
pub use records::{IncidentList, LearningsResult, RecordResult};
pub use runbooks::RunbookResult;
pub use transactions::TransactionResult;
pub use whatif::WhatIfResult;

use sdd_debugger::event::{Nanos, NANOS_PER_SECOND};
use sdd_debugger::incident::clamp_time;
use sdd_mcp::ToolError;

pub(crate) fn now() -> Nanos {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as Nanos)
        .unwrap_or(0)
}

/// A time argument: RFC 3339 (`2026-12-01T03:12:00Z`), or a duration back from now (`30m`,
/// `2h`, `7d`).
pub(crate) fn parse_time(name: &str, text: &str) -> Result<Nanos, ToolError> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return t
            .timestamp_nanos_opt()
            .ok_or_else(|| format!("{name}: `{text}` is out of range"));
    }
    match sdd_monitoring::window::parse_duration(text) {
        Ok(ms) => Ok(now() - ms * 1_000_000),
        Err(_) => Err(format!(
            "{name}: `{text}` is neither an RFC 3339 time (2026-12-01T03:12:00Z) nor a duration back from now (30m, 2h, 7d)"
        )),
    }
}

/// Both ends of an optional window, or neither.
pub(crate) fn window(
    what: &str,
    start: &Option<String>,
    end: &Option<String>,
) -> Result<Option<(Nanos, Nanos)>, ToolError> {
    let (start, end) = match (start, end) {
        (None, None) => return Ok(None),
        (Some(s), e) => (
            parse_time(&format!("{what}_start"), s)?,
            match e {
                Some(e) => parse_time(&format!("{what}_end"), e)?,
                None => now() + NANOS_PER_SECOND,
            },
        ),
        (None, Some(_)) => {
            return Err(format!(
                "{what}_end without {what}_start: give the start too"
            ))
        }
    };
    if end <= start {
        let name = if what.is_empty() { "the window" } else { what };
        return Err(format!(
            "{name}: the end ({}) is not after the start ({})",
            sdd_debugger::incident::rfc3339(end),
            sdd_debugger::incident::rfc3339(start)
        ));
    }
    // Checked in order first, then kept to the times events can have: a window from 1677 to
    // 2262 is valid RFC 3339, and its length would overflow the arithmetic on it.
    Ok(Some((clamp_time(start), clamp_time(end))))
}

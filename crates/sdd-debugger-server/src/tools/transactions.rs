//! `trace_transaction`: one business transaction, step by step.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_debugger::collect::collect;
use sdd_debugger::read::ReadReport;
use sdd_debugger::trace::{build, Key, Lookup, Transaction};
use sdd_mcp::ToolError;

use crate::DebuggerServer;

pub const DEFAULT_STEPS: usize = 100;
pub const MAX_STEPS: usize = 500;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionArgs {
    /// A trace ID (32 hex digits, or `trace:<id>`), or a business key: `task_id=42`, or a bare
    /// value looked up in every key of `debugger.business_keys` (every attribute when none is
    /// set).
    pub key: String,
    /// Steps shown at most (default 100, at most 500); the answer says how many there are.
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TransactionResult {
    /// `12 steps in 2 traces over 4.2 ms: scenarios …; outcomes …`, or why nothing was found.
    pub summary: String,
    #[serde(flatten)]
    pub transaction: Transaction,
    pub sources: Vec<ReadReport>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[tool_router(router = transaction_tools, vis = "pub(crate)")]
impl DebuggerServer {
    /// One business transaction, step by step: found by trace ID, or by a business key such
    /// as `task_id=42` (every trace that touched it: its creation, completion and reads). Each
    /// step with its time, duration, scenario and step, business rule, expected and actual
    /// outcome, decision factors, and the file and line it was read from. Spans whose parent
    /// is missing or that form a cycle are shown as roots and named.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn trace_transaction(
        &self,
        Parameters(args): Parameters<TransactionArgs>,
    ) -> Result<Json<TransactionResult>, ToolError> {
        if args.key.trim().is_empty() {
            return Err("key: give a trace ID or a business key such as task_id=42".into());
        }
        let limit = args.limit.unwrap_or(DEFAULT_STEPS);
        if limit == 0 || limit > MAX_STEPS {
            return Err(format!("limit: {limit} is not between 1 and {MAX_STEPS}"));
        }
        let file = self.project_file()?;
        let root = self.state.project.root.clone();
        let key = Key::parse(&args.key);
        let empty = match &key {
            Key::TraceId(id) => id.is_empty(),
            Key::Business { attribute, value } => {
                value.is_empty() || attribute.as_deref().is_some_and(str::is_empty)
            }
        };
        if empty {
            return Err(format!(
                "key: `{}` names no value; give a trace ID or a business key such as task_id=42",
                args.key
            ));
        }
        sdd_mcp::blocking(move || {
            let mut lookup = Lookup::new(key, file.debugger.business_keys.clone());
            let mut notes = Vec::new();
            if lookup.needs_first_pass() {
                let first = collect(&file, &root, None, &mut |e| lookup.first(e), &mut |_| {});
                notes.extend(first.problems);
            }
            if lookup.traces_capped() {
                notes.push(format!(
                    "the key appears in more than {} traces: only the first {} are shown; a business key names one transaction",
                    sdd_debugger::trace::MAX_TRACES,
                    sdd_debugger::trace::MAX_TRACES
                ));
            }
            let mut events = Vec::new();
            let second = collect(
                &file,
                &root,
                None,
                &mut |e| {
                    if lookup.wants_second(&e) {
                        events.push(e);
                    }
                },
                &mut |_| {},
            );
            if !lookup.needs_first_pass() {
                notes.extend(second.problems.iter().cloned());
            }
            let found_by = lookup.key().describe();
            events.extend(lookup.into_untraced());
            let transaction = build(found_by.clone(), events, limit);
            let summary = if transaction.steps_total == 0 {
                format!(
                    "nothing found for {found_by} in {} sources",
                    second.reads.len()
                )
            } else {
                format!(
                    "{} steps in {} traces over {:.1} ms: scenarios {}; outcomes {}",
                    transaction.steps_total,
                    transaction.traces.len(),
                    transaction.duration_ms,
                    if transaction.scenarios.is_empty() {
                        "none named".to_string()
                    } else {
                        transaction.scenarios.join(", ")
                    },
                    if transaction.outcomes.is_empty() {
                        "none recorded".to_string()
                    } else {
                        transaction
                            .outcomes
                            .iter()
                            .map(|(o, n)| format!("{n} {}", o.word()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )
            };
            if transaction.steps.len() < transaction.steps_total {
                notes.push(format!(
                    "{} of {} steps shown: ask with a higher limit (at most {MAX_STEPS})",
                    transaction.steps.len(),
                    transaction.steps_total
                ));
            }
            Ok(TransactionResult {
                summary,
                transaction,
                sources: second.reads,
                notes,
            })
        })
        .map(Json)
    }
}

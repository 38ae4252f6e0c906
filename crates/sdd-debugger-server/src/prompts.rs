//! Prompts: the operations workflows a person starts by name (`/investigate_incident`,
//! `/write_hotfix`). They tell the agent which tools to call in which order; the tools do the
//! computing, the agent the writing, and a person the approving.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{PromptMessage, Role};
use rmcp::{prompt, prompt_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::DebuggerServer;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvestigateArgs {
    /// Where to look from: RFC 3339 (`2026-12-01T03:00:00Z`) or a duration back from now
    /// (`30m`, `2h`). Default: analyze_incident finds the onset itself.
    #[serde(default)]
    pub since: Option<String>,
    /// The window's end (RFC 3339 or a duration back from now; default: now).
    #[serde(default)]
    pub until: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HotfixArgs {
    /// The bug as the person reported it: "When X, Y should happen but Z happens".
    pub report: String,
    /// The domain it belongs to, if known.
    #[serde(default)]
    pub domain: Option<String>,
}

#[prompt_router(vis = "pub(crate)")]
impl DebuggerServer {
    /// Investigate an incident end to end: what broke and why, one affected transaction step
    /// by step, the log templates that changed, then record it, learn from it and write the
    /// runbook for what broke.
    #[prompt(name = "investigate_incident")]
    pub async fn investigate_incident(
        &self,
        Parameters(args): Parameters<InvestigateArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            investigate_text(args.since.as_deref(), args.until.as_deref()),
        )]
    }

    /// Turn a behavioural bug report into a proposed scenario and a failing regression test,
    /// get a person's approval, then fix it and prove the fix.
    #[prompt(name = "write_hotfix")]
    pub async fn write_hotfix(
        &self,
        Parameters(args): Parameters<HotfixArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            hotfix_text(&args.report, args.domain.as_deref()),
        )]
    }
}

/// The `investigate_incident` prompt's text.
fn investigate_text(since: Option<&str>, until: Option<&str>) -> String {
    let window = match (since, until) {
        (Some(s), Some(u)) => format!(" between {s} and {u}"),
        (Some(s), None) => format!(" since {s}"),
        (None, Some(u)) => format!(" up to {u}"),
        (None, None) => String::new(),
    };
    let args = match (since, until) {
        (None, None) => "no window (it finds the onset)".to_string(),
        (s, u) => [
            s.map(|s| format!("`start: {s}`")),
            u.map(|u| format!("`end: {u}`")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and "),
    };
    format!(
        "Investigate the incident{window}, in the spec's terms, with the sdd-debugger tools.\n\
         1. analyze_incident with {args}. Report the headline, which scenarios and constraints broke and when, \
            and the ranked hypotheses with their evidence for and against. Claim only what the evidence shows; \
            if it says nothing stands out above noise, say so and stop.\n\
         2. trace_transaction on one affected transaction: take a business key (e.g. `task_id=42`) or a trace ID \
            from the top hypothesis' evidence examples, and show its steps, decisions and where it failed.\n\
         3. log_patterns over the same window: the templates that are new, vanished or changed in rate, and \
            whether they agree with the top hypothesis.\n\
         4. record_incident with the window, the analysis (the top hypotheses as analyze_incident gave them), \
            the cause once a person confirms it, the resolution and links, so the run history keeps it.\n\
         5. post_incident_learnings for that incident: the proposed scenarios, constraints and alert rules \
            that would have caught it earlier. They are proposals: ask the person to review them with `sdd review`; \
            never approve anything yourself.\n\
         6. generate_runbook for the scenario or constraint that broke, so the next on-call person has \
            detection, verification, likely causes and remediation in the spec's words.\n\
         Finish with a short report: what broke, the cause and its evidence, what was recorded, and what \
         waits for the person's review."
    )
}

/// The `write_hotfix` prompt's text.
fn hotfix_text(report: &str, domain: Option<&str>) -> String {
    let domain_arg = domain.map(|d| format!("`domain: {d}`")).unwrap_or_else(|| {
        "the domain it belongs to (list_domains on the specification server if unsure)".into()
    });
    format!(
        "Write a hotfix for this bug report: {report}\n\n\
         Behaviour first, then code:\n\
         1. draft_hotfix with `report` (the sentence above; if it does not parse, split it into `when`, \
            `expected`, `actual`) and {domain_arg}. Add an `example` (HTTP request and expected status/body) \
            when the bug is visible over HTTP.\n\
         2. Show the person the proposed scenario (its Given/When/Then and the rationale that records what \
            happens today) and what the fix must not break. Ask them to run `sdd review` to approve it. Stop \
            until they have: you cannot approve it, and nothing is implemented against a proposal.\n\
         3. Once approved: save the regression test at its suggested path, keep its name (it carries the \
            scenario ID), write its body from Given/When/Then, and see it fail for the reported reason. Then \
            write the fix.\n\
         4. run_tests on the implementation server: the new test passes and maps to the scenario; no test of \
            the scenarios listed in must_not_break regresses (compare_runs with the run before the fix).\n\
         5. Verify: check_scenarios for the scenario's examples and verify_constraints for the constraints \
            listed in must_not_break. Report per scenario and constraint: passing, failing or unchecked."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn investigate_names_every_step_in_order_with_the_window() {
        let text = investigate_text(Some("2h"), None);
        assert!(text.contains(" since 2h"), "{text}");
        assert!(text.contains("`start: 2h`"), "{text}");
        let mut at = 0;
        for tool in [
            "analyze_incident",
            "trace_transaction",
            "log_patterns",
            "record_incident",
            "post_incident_learnings",
            "generate_runbook",
        ] {
            let found = text[at..]
                .find(tool)
                .unwrap_or_else(|| panic!("{tool} missing after byte {at}:\n{text}"));
            at += found;
        }
        assert!(investigate_text(None, None).contains("it finds the onset"));
    }

    #[test]
    fn hotfix_carries_the_report_and_waits_for_the_review() {
        let text = hotfix_text("When X, Y should happen but Z happens", Some("tasks"));
        assert!(text.starts_with(
            "Write a hotfix for this bug report: When X, Y should happen but Z happens\n"
        ));
        assert!(text.contains("`domain: tasks`"));
        let mut at = 0;
        for step in [
            "draft_hotfix",
            "sdd review",
            "Stop",
            "run_tests",
            "verify_constraints",
        ] {
            at += text[at..]
                .find(step)
                .unwrap_or_else(|| panic!("{step} missing after byte {at}:\n{text}"));
        }
    }
}

//! Prompts: the workflows a person starts by name. They tell the agent which tools to call in
//! which order; the agent does the writing, the tools do the checking.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{PromptMessage, Role};
use rmcp::{prompt, prompt_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::SpecServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddFeatureArgs {
    /// What the feature should do, in the user's words.
    pub feature: String,
    /// The domain it belongs to, if known.
    #[serde(default)]
    pub domain: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewArgs {
    /// Only proposals of this domain.
    #[serde(default)]
    pub domain: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeCaseArgs {
    /// The domain to look for missing edge cases in.
    pub domain: String,
}

#[prompt_router(vis = "pub(crate)")]
impl SpecServer {
    /// Add a feature the specification-driven way: analyse, propose scenarios, wait for a
    /// person's approval, implement, instrument (SDD's metrics and semantic event conventions),
    /// verify.
    #[prompt(name = "add_feature")]
    pub async fn add_feature(
        &self,
        Parameters(args): Parameters<AddFeatureArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            add_feature_text(&args.feature, args.domain.as_deref()),
        )]
    }

    /// Prepare proposals for a person's review: what each adds, conflicts, and what is unclear.
    #[prompt(name = "review_scenarios")]
    pub async fn review_scenarios(
        &self,
        Parameters(args): Parameters<ReviewArgs>,
    ) -> Vec<PromptMessage> {
        let scope = args
            .domain
            .as_deref()
            .map(|d| format!(" for domain `{d}`"))
            .unwrap_or_default();
        vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Help me review the proposed scenarios{scope}.\n\
                 Call list_proposals. For each proposal show its ID, Given/When/Then and rationale in plain \
                 words, and run validate_scenario to surface conflicts or vague wording. Group them by what \
                 they protect (errors, security, data integrity, limits). Recommend approve, reject or edit, \
                 with one sentence why — then stop: I decide, with `sdd review`. Do not change any status."
            ),
        )]
    }

    /// Find and draft the edge cases a domain's scenarios miss.
    #[prompt(name = "edge_cases")]
    pub async fn edge_cases(
        &self,
        Parameters(args): Parameters<EdgeCaseArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Find the edge cases missing from domain `{domain}`.\n\
                 Call analyze_coverage with domain `{domain}`. For each missing class (error paths, auth, input \
                 bounds, concurrency, idempotency, injection, not-found, rate limits) adapt the drafted scenario \
                 to this domain using get_scenarios and get_constraints (use the real limits and messages), \
                 check it with validate_scenario, and propose the set with propose_scenarios, each with a \
                 rationale. Then list what you proposed and ask me to review.",
                domain = args.domain
            ),
        )]
    }
}

/// The `add_feature` prompt's text.
fn add_feature_text(feature: &str, domain: Option<&str>) -> String {
    let domain = domain
        .map(|d| format!(" in domain `{d}`"))
        .unwrap_or_default();
    format!(
        "Add this feature{domain}: {feature}\n\n\
         Work specification-first, with the sdd-specification tools:\n\
         1. Analyse: list_domains, then get_scenarios and get_constraints for the domains it touches; \
            dependency_graph if it crosses domains.\n\
         2. Propose: write Given/When/Then scenarios for the feature, including its error paths and the \
            edge cases analyze_coverage reports missing. Check each with validate_scenario, then call \
            propose_scenarios with a rationale per scenario.\n\
         3. Human review: stop and ask the user to review the proposals (`sdd review`). Do not implement \
            anything that is not approved, and never change a scenario's status yourself.\n\
         4. Implement: when approved, generate_test_suite for the project's test framework, keep the test \
            names (they carry scenario IDs), write the test bodies, then the code.\n\
         5. Instrument: the service emits SDD's metrics convention (SDD's README, section \"Metrics \
            convention\"; the bundled example's src/metrics.rs does it), the same names, types and labels, \
            so SDD's monitoring reads it: `http_request_duration_seconds` histogram (labels `method`, \
            `route` = the route template or `unmatched`, `status` = the code; buckets 0.001, 0.0025, 0.005, \
            0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5, 10 s) from a middleware around the \
            whole router; `sdd_scenario_outcomes_total` counter (labels `scenario` = the scenario ID as \
            get_scenarios lists it, `outcome` = `success` when the service delivered what the scenario says, \
            a refusal it asks for included, or `failure` when it could not or broke its rule), incremented at \
            each approved scenario's decision point in the handlers, this feature's included; gauges \
            `process_resident_memory_bytes`, `process_open_fds`, `process_start_time_seconds`, \
            `db_size_bytes`, `db_connections_in_use` read at scrape time. Serve them as GET /metrics on a \
            separate listener, 127.0.0.1:$METRICS_PORT, without a token, never on the API's port. \
            And it emits SDD's semantic events (README, section \"Semantic event convention\"; the bundled \
            example's src/events.rs does it through `tracing`): at each decision point one event with \
            `event` (`<area>.<decision>`), `scenario` (the scenario ID), `step` (numbered, `2_store`), \
            `business_rule` in the spec's words, `expected_outcome`, `actual_outcome`, `outcome` \
            (`success`, `failure`, or `refused` for a refusal a constraint demands, with `constraint` = its \
            ID), `decision_factors`, `attributes` (business keys such as the entity's ID, the user, any \
            dimension a failure could share), `trace_id`/`span_id` (one trace per request, a span per \
            step with `kind: span` and `duration_ms`), `service_version`; as JSON lines (EVENTS_LOG) and \
            OTLP JSON (OTLP_LOG), so the debugger server can explain an incident in the spec's terms.\n\
         6. Verify: run the tests, map each result to its scenario, and check the constraints that apply \
            (get_constraints); impact_analysis tells which existing scenarios to re-run. Report per \
            scenario: passing, failing, or untested."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_feature_asks_for_the_metrics_convention() {
        let text = add_feature_text("Tasks can have due dates", Some("tasks"));
        assert!(text.starts_with("Add this feature in domain `tasks`: Tasks can have due dates\n"));
        for needle in [
            "\"Metrics convention\"",
            "`http_request_duration_seconds` histogram",
            "`sdd_scenario_outcomes_total` counter",
            "`process_resident_memory_bytes`",
            "`db_connections_in_use`",
            "METRICS_PORT",
            "\"Semantic event convention\"",
            "`business_rule`",
            "`refused`",
            "OTLP JSON (OTLP_LOG)",
            "6. Verify",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        assert!(add_feature_text("x", None).starts_with("Add this feature: x\n"));
    }
}

//! Prompts: the monitoring workflow a person starts by name (`/review_degradation`). It tells
//! the agent which tools to call in which order; the tools measure, the agent writes, and a
//! person decides on any limit it proposes.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{PromptMessage, Role};
use rmcp::{prompt, prompt_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::MonitorServer;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DegradationArgs {
    /// How far back to look for trends: `6h`, `7d` (default: detect_degradation's own window).
    #[serde(default)]
    pub window: Option<String>,
}

#[prompt_router(vis = "pub(crate)")]
impl MonitorServer {
    /// Review gradual degradation: what is creeping, which constraint each trend threatens and
    /// when, early-warning alerts, and what a proposed limit would do (what_if).
    #[prompt(name = "review_degradation")]
    pub async fn review_degradation(
        &self,
        Parameters(args): Parameters<DegradationArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            review_text(args.window.as_deref()),
        )]
    }
}

/// The `review_degradation` prompt's text.
fn review_text(window: Option<&str>) -> String {
    let window_arg = window
        .map(|w| format!(" with `window: {w}`"))
        .unwrap_or_default();
    format!(
        "Review the service for gradual degradation (leaks, bloat, creeping latency) before it breaks a constraint.\n\
         1. detect_degradation{window_arg}: the trends that are significant, each with its rate, whether it follows \
            load or business volume, and its forecast.\n\
         2. health_report{window_arg}: where every scenario and constraint stands now, so each trend is read \
            against today's headroom.\n\
         3. For each risk: name the constraint it threatens (its ID and requirement, from constraint_headroom), \
            the headroom left and when the forecast crosses the limit. A trend that follows load is capacity, \
            not a leak: say which it is. Claim nothing the numbers do not show.\n\
         4. generate_alert_rules: show the early-warning (predict_linear) and burn-rate alerts that cover those \
            constraints and limits, and name any risk no rule watches.\n\
         5. Where a limit is missing or too loose, draft it as a constraint in YAML and run what_if on the \
            sdd-debugger server with it: the headroom it would eat on today's metrics, whether it would be \
            violated now, and the alerts and dashboard panels it would change. It writes nothing.\n\
         Finish with the risks ranked by time to violation, what already watches each, and the proposed \
         limits with their what_if results for a person to decide. Do not edit the spec yourself."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_names_every_step_in_order() {
        let text = review_text(Some("7d"));
        assert!(
            text.contains("detect_degradation with `window: 7d`"),
            "{text}"
        );
        let mut at = 0;
        for step in [
            "detect_degradation",
            "health_report",
            "constraint_headroom",
            "generate_alert_rules",
            "what_if",
        ] {
            at += text[at..]
                .find(step)
                .unwrap_or_else(|| panic!("{step} missing after byte {at}:\n{text}"));
        }
        assert!(!review_text(None).contains("window:"));
    }
}

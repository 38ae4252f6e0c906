//! `draft_hotfix`: the emergency path. A behavioural bug report becomes a *proposed* scenario
//! (written through the same gate as propose_scenarios: `validate_proposals`, then
//! `sdd_spec::review::propose` under the spec tree's lock), a failing regression test in the
//! project's test style, and what the fix must not break. Nothing is approved or applied.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_debugger::hotfix::{
    draft_scenario, draft_source, must_not_break, parse_report, project_framework, regression_test,
    report_from_parts, BugReport, DraftOptions, Guard, GuardKind, RegressionTest,
};
use sdd_mcp::{largest_fitting, wire_chars, SpecSlot, ToolError, DEFAULT_ANSWER_CHARS};
use sdd_spec::document::{ExampleDoc, OneOrMany};
use sdd_spec::model::Scenario;
use sdd_spec::review::{check_proposals, propose, validate_proposals, ProposalOutcome};
use sdd_spec::testgen::Framework;

use crate::DebuggerServer;

/// Who the proposal is recorded as proposed by.
const PROPOSED_BY: &str = "agent";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftHotfixArgs {
    /// The bug report in one sentence: `When X, Y should happen but Z happens` (also `When X
    /// then Y should …`, `…; instead Z`, `… but actually Z`, `If X, Y must …`). Or give `when`,
    /// `expected` and `actual` instead.
    #[serde(default)]
    pub report: Option<String>,
    /// X: the situation that triggers the bug (`I complete a task that is already completed`).
    #[serde(default)]
    pub when: Option<String>,
    /// Y: what should happen (`the API should answer 409`): the scenario's `then`.
    #[serde(default)]
    pub expected: Option<String>,
    /// Z: what happens today instead (`it answers 500`): recorded in the rationale and the
    /// test, never as an expectation.
    #[serde(default)]
    pub actual: Option<String>,
    /// The domain the scenario belongs to (list_domains on the specification server).
    pub domain: String,
    /// Preconditions: a sentence or a list of sentences.
    #[serde(default)]
    pub given: Option<OneOrMany>,
    /// The scenario's name (default: the situation, cut at 80 characters).
    #[serde(default)]
    pub name: Option<String>,
    /// The scenario's ID (default: derived from the domain and the name).
    #[serde(default)]
    pub id: Option<String>,
    /// An executable example: HTTP requests and the response they must get (the spec format's
    /// `examples` item: `{steps: [{request: {method, path, json}, expect: {status, json}}]}`),
    /// so check_scenarios can check the fix without trusting the test.
    #[serde(default)]
    pub example: Option<ExampleDoc>,
    /// `cargo`, `pytest`, `go`, `jest`, `vitest` or `cucumber`. Default: from the test
    /// profiles of sdd.yaml, else the project's files (Cargo.toml, pyproject.toml, go.mod,
    /// package.json).
    #[serde(default)]
    pub framework: Option<Framework>,
    /// The spec file to append the proposal to, relative to the spec root. Default: the
    /// domain's first file with scenarios.
    #[serde(default)]
    pub file: Option<String>,
    /// Write the proposal into the spec (default true). `false` returns the same draft and
    /// writes nothing.
    #[serde(default)]
    pub write: Option<bool>,
    /// Also write the test file here (relative to the project root, outside the spec
    /// directory; a new file only: an existing file is never replaced). Default: the test is
    /// only returned.
    #[serde(default)]
    pub test_path: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DraftHotfixResult {
    /// What was drafted and written, in one line.
    pub headline: String,
    /// The report as read: X, Y, Z.
    pub report: BugReport,
    /// The proposed scenario (status `proposed`): `then` says what should happen; the
    /// rationale says what happens today.
    pub scenario: Scenario,
    /// Where the proposal was written (absent with `write: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<ProposalOutcome>,
    /// Warnings validate_scenario gave (errors refuse the draft).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The regression test: it fails until its body and the fix are written.
    pub test: RegressionTest,
    /// Where the framework came from.
    pub framework_from: String,
    /// Where the test was written, relative to the project root (with `test_path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_written: Option<String>,
    /// Approved scenarios and constraints the fix must keep, each with why it is listed.
    pub must_not_break: Vec<Guard>,
    /// Guards left out to keep the answer short (get_scenarios and get_constraints list all).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub must_not_break_omitted: usize,
    pub next_steps: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The file endings a test of `framework` may have.
fn test_extensions(framework: Framework) -> &'static [&'static str] {
    match framework {
        Framework::Cargo => &[".rs"],
        Framework::Pytest => &[".py"],
        Framework::Go => &["_test.go"],
        Framework::Jest | Framework::Vitest => &[".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx"],
        Framework::Cucumber => &[".feature"],
    }
}

#[tool_router(router = hotfix_tools, vis = "pub(crate)")]
impl DebuggerServer {
    /// The emergency path for a behavioural bug: "When X, Y should happen but Z happens"
    /// becomes (1) a *proposed* scenario written into the spec (status proposed: only a person
    /// approves it, with `sdd review`; `write: false` only drafts), whose `then` is Y and whose
    /// rationale records Z as the bug; (2) a failing regression test skeleton for the project's
    /// framework, named by the test-name convention so run_tests maps its result to the
    /// scenario, with Z as a comment; (3) the approved scenarios and constraints the fix must
    /// not break (impact analysis, the domain's scenarios, the constraints in scope), each
    /// with why. Next: ask the person to review, write the test body and the fix, run_tests.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn draft_hotfix(
        &self,
        Parameters(args): Parameters<DraftHotfixArgs>,
    ) -> Result<Json<DraftHotfixResult>, ToolError> {
        let parts = [&args.when, &args.expected, &args.actual];
        let report = match &args.report {
            Some(_) if parts.iter().any(|p| p.is_some()) => {
                return Err(
                    "give either `report` or `when`, `expected` and `actual`, not both".into(),
                )
            }
            Some(text) => parse_report(text),
            None => report_from_parts(
                args.when.as_deref(),
                args.expected.as_deref(),
                args.actual.as_deref(),
            ),
        }
        .map_err(|e| e.to_string())?;
        let options = DraftOptions {
            name: args.name.clone(),
            id: args.id.clone(),
            given: args
                .given
                .clone()
                .map(OneOrMany::into_vec)
                .unwrap_or_default(),
            example: args.example.clone(),
        };
        let draft = draft_scenario(&report, &options);
        let domain = args.domain.clone();
        // Size, characters, required fields and the ID first: nothing below sees a hostile input.
        let (ids, items) = check_proposals(&domain, std::slice::from_ref(&draft), PROPOSED_BY)
            .map_err(|e| e.to_string())?;
        let id = ids[0].clone();

        let file = self.project_file()?;
        let loaded = self.state.spec.load(&self.state.project, Some(&file))?;
        let checks = validate_proposals(
            &loaded.spec,
            &domain,
            std::slice::from_ref(&draft),
            PROPOSED_BY,
        )?;
        let warnings: Vec<String> = checks
            .iter()
            .flat_map(|c| {
                c.diagnostics
                    .iter()
                    .map(|d| format!("{}: {}", d.code, d.message))
            })
            .take(20)
            .collect();

        let (framework, framework_from) = match args.framework {
            Some(f) => (f, "the `framework` argument".to_string()),
            None => project_framework(&file, &self.state.project.root).ok_or(
                "no test framework found: sdd.yaml has no test profile naming one and the project has no Cargo.toml, pyproject.toml, go.mod or package.json; give `framework`",
            )?,
        };
        let specs = SpecSlot::specs_dir(&self.state.project, Some(&file))?;
        // The test's target is checked before anything is written: a bad path writes nothing.
        let test_target = match &args.test_path {
            Some(relative) => {
                let path = sdd_mcp::generated_target(
                    &self.state.project,
                    &specs,
                    "test_path",
                    relative,
                    test_extensions(framework),
                )?;
                if std::fs::symlink_metadata(&path).is_ok() {
                    return Err(format!(
                        "`test_path` `{relative}` exists; draft_hotfix writes new test files only: choose another path"
                    ));
                }
                Some(path)
            }
            None => None,
        };

        // The spec without and with the proposal, in memory: what impact analysis compares.
        let (after, impact) = {
            let loaded = loaded.clone();
            let specs = specs.clone();
            let item = items[0].clone();
            let domain = domain.clone();
            sdd_mcp::blocking(move || {
                let mut sources = sdd_debugger::whatif::current_sources(
                    &specs,
                    &loaded.spec,
                    &loaded.diagnostics,
                )?;
                let before = sdd_spec::load_sources(&sources).spec;
                sources.push((
                    "(draft_hotfix, not written)".into(),
                    draft_source(&domain, &item),
                ));
                let after = sdd_spec::load_sources(&sources).spec;
                let impact = sdd_spec::analysis::impact::compare(&before, &after);
                Ok::<_, String>((after, impact))
            })?
        };

        let write = args.write.unwrap_or(true);
        let written = if write {
            let specs = specs.clone();
            let domain = domain.clone();
            let target = args.file.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                propose(&specs, &domain, &[draft], target.as_deref(), PROPOSED_BY)
            })
            .await
            .map_err(|e| format!("the write was interrupted ({e}); nothing may have been written, see list_proposals"))?
            .map_err(|e| e.to_string())?;
            tracing::info!(id = %id, file = %outcome.file, "proposed a hotfix scenario");
            Some(outcome)
        } else {
            None
        };
        // The scenario as the spec now holds it (its real location once written).
        let scenario: Scenario = match &written {
            Some(_) => self
                .state
                .spec
                .load(&self.state.project, Some(&file))?
                .spec
                .scenario(&id)
                .cloned(),
            None => None,
        }
        .or_else(|| after.scenario(&id).cloned())
        .ok_or_else(|| format!("`{id}` did not load as a proposal; validate_spec says why"))?;
        let test = regression_test(framework, &scenario, &report);
        let test_written = match test_target {
            Some(path) => {
                let code = test.code.clone();
                let shown = self.state.project.display(&path);
                sdd_mcp::blocking(move || {
                    sdd_mcp::write_generated(&path, &code, |_| false, "draft_hotfix", false)
                })
                .map_err(|e| match &written {
                    Some(w) => format!(
                        "the proposal `{id}` was written to {}, but the test was not: {e}",
                        w.file
                    ),
                    None => e,
                })?;
                Some(shown)
            }
            None => None,
        };

        let guards = must_not_break(&after, &impact, &domain, &id);
        let scenarios = guards
            .iter()
            .filter(|g| g.kind == GuardKind::Scenario)
            .count();
        let constraints = guards.len() - scenarios;
        let headline = match &written {
            Some(w) => format!(
                "Proposed `{id}` in {} (status proposed: a person approves it with `sdd review`); the regression test `{}` fails until the fix; the fix must keep {scenarios} approved scenarios and {constraints} constraints",
                w.file, test.test_name
            ),
            None => format!(
                "Drafted `{id}` (not written: `write` is false); the regression test `{}` fails until the fix; the fix must keep {scenarios} approved scenarios and {constraints} constraints",
                test.test_name
            ),
        };
        let test_file = test_written
            .clone()
            .unwrap_or_else(|| test.suggested_path.clone());
        let next_steps = vec![
            match &written {
                Some(_) => format!("Show the person the proposed scenario `{id}` and ask them to run `sdd review`; nothing is implemented against it until they approve."),
                None => "Call again without `write: false` to propose it, then ask the person to run `sdd review`.".into(),
            },
            format!("Save the test as {test_file} (keep its name `{}`), write its body from Given/When/Then, and see it fail for the reported reason.", test.test_name),
            "Fix the code; then run_tests on the implementation server (its result maps to the scenario) and check_scenarios for its examples.".into(),
            "Re-run what the fix must not break: the scenarios' tests and verify_constraints for the constraints listed.".into(),
        ];
        let answer = |guards: Vec<Guard>, omitted: usize| DraftHotfixResult {
            headline: headline.clone(),
            report: report.clone(),
            scenario: scenario.clone(),
            written: written.clone(),
            warnings: warnings.clone(),
            test: test.clone(),
            framework_from: framework_from.clone(),
            test_written: test_written.clone(),
            must_not_break: guards,
            must_not_break_omitted: omitted,
            next_steps: next_steps.clone(),
        };
        // Room for the JSON-RPC envelope.
        let budget = DEFAULT_ANSWER_CHARS - 1_000;
        let total = guards.len();
        let keep = largest_fitting(total, |n| {
            wire_chars(&answer(guards[..n].to_vec(), total - n)) <= budget
        });
        let mut guards = guards;
        guards.truncate(keep);
        Ok(Json(answer(guards, total - keep)))
    }
}

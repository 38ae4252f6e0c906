//! `sdd verify`: the whole loop on a project, in order — validate the specs, run every test
//! profile and trace the results to scenarios, start the service, run the executable
//! examples, verify the constraints (and, after their load runs, the consistency check), stop
//! the service — then one table per scenario and per constraint. Every step after validation goes through the implementation server's tools, so
//! the runs land in the project's history like an agent's. The whole result is also written to
//! `.sdd/last-verify.json` for `sdd report`. Exit 1 on any failure.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;

use sdd_exec::process::Exit;
use sdd_exec::service::{ServiceState, StopReport};
use sdd_implementation_server::{CheckResult, RunTestsResult, StartResult, VerifyResult};
use sdd_mcp::{Page, MAX_PAGE};
use sdd_results::trace::ScenarioVerdict;
use sdd_results::Outcome;
use sdd_spec::analysis::validate::validate;
use sdd_spec::document::ReviewStatus;
use sdd_spec::verdict::{headline, NotVerified, Overall, Tally, Verdict};
use sdd_spec::Severity;
use sdd_verify::consistency::{self, ConsistencyCheck};
use sdd_verify::constraints::ConstraintVerdict;
use sdd_verify::examples::{CheckReport, CheckVerdict};
use sdd_verify::testrun::TestRunReport;

use crate::cli::VerifyArgs;
use crate::session::{self, Server, Session};
use crate::table::Table;
use crate::{sayln, shown};

/// Where the last verification is kept, under the project root.
pub const LAST_VERIFY: &str = ".sdd/last-verify.json";

/// The review column of a scenario written `approved` whose behaviour changed since then.
pub const CHANGED_SINCE_APPROVAL: &str = "changed since approval";

#[derive(Debug, Serialize, Deserialize)]
pub struct Verification {
    pub project: String,
    pub started_at: String,
    pub duration_seconds: f64,
    /// Nothing failed (the exit status is 0). Not "verified": see `overall`.
    pub ok: bool,
    /// VERIFIED only when everything was checked and passed (absent in files from before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall: Option<Overall>,
    /// The one-line headline, naming what was not verified.
    #[serde(default)]
    pub headline: String,
    /// Approved scenarios and constraints that were not verified, and why.
    #[serde(default)]
    pub not_verified: Vec<NotVerified>,
    pub steps: Vec<Step>,
    pub scenarios: Vec<ScenarioRow>,
    /// The constraint verdicts as `verify_constraints` returned them, with measurements.
    pub constraints: Vec<ConstraintVerdict>,
    /// After the load runs: what they wrote read back, the examples re-run (absent in files
    /// from before, and when the constraints were not verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<ConsistencyCheck>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub ok: bool,
    pub seconds: f64,
    pub summary: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ScenarioRow {
    pub id: String,
    pub name: String,
    /// `approved`, `proposed`, `rejected` or `changed since approval`.
    pub review: String,
    /// From the test runs: `passing`, `failing`, `skipped`, `no_test`, or `-` when not traced.
    pub tests: String,
    /// From the executable examples: `passing`, `failing`, or `-`.
    pub examples: String,
    pub verdict: String,
    /// Why it fails (the first failing test's message or example mismatch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

struct Loop<'a> {
    steps: Vec<Step>,
    total: usize,
    session: Option<&'a Session>,
}

impl Loop<'_> {
    /// Run one step, printing `[n/N] name … summary (seconds)`.
    async fn step<T>(
        &mut self,
        name: &str,
        work: impl std::future::Future<Output = (bool, String, T)>,
    ) -> T {
        let number = self.steps.len() + 1;
        if let Some(session) = self.session {
            session.progress.set_step(name);
        }
        let clock = Instant::now();
        let (ok, summary, value) = work.await;
        let seconds = clock.elapsed().as_secs_f64();
        sayln!(
            "[{number}/{}] {name:<24} {} {summary} ({seconds:.1} s)",
            self.total,
            if ok { "ok  " } else { "FAIL" }
        );
        self.steps.push(Step {
            name: name.into(),
            ok,
            seconds,
            summary,
        });
        value
    }
}

pub async fn run(options: &VerifyArgs) -> Result<ExitCode, String> {
    let root = options.specs.project.root()?;
    let file = sdd_spec::project::load_project_file(&root)
        .map_err(|d| crate::validate::render(&d, &root))?;
    let specs = options.specs.specs();
    let started_at = sdd_spec::review::now_rfc3339();
    let clock = Instant::now();
    sayln!("sdd verify {}", shown(&root));

    let profiles: Vec<String> = if options.profiles.is_empty() {
        file.tests.keys().cloned().collect()
    } else {
        for p in &options.profiles {
            if !file.tests.contains_key(p) {
                return Err(format!(
                    "no test profile `{p}` in sdd.yaml (it has: {})",
                    file.tests.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        options.profiles.clone()
    };
    let has_service = file.service.is_some();
    let total = 1
        + profiles.len()
        + if has_service {
            // The constraints, then the consistency check after their load runs.
            3 + 2 * usize::from(!options.skip_constraints)
        } else {
            0
        };
    let mut steps = Loop {
        steps: Vec::new(),
        total,
        session: None,
    };

    // 1. Validate: nothing else is worth running on a spec with errors.
    let loaded = sdd_spec::load_dir(&specs).map_err(|e| e.to_string())?;
    let report = validate(&loaded.spec, &loaded.diagnostics);
    let valid = steps
        .step("validate specs", async {
            let s = &report.summary;
            let summary = format!(
                "{} scenarios, {} constraints: {} errors, {} warnings",
                s.scenarios, s.constraints, s.errors, s.warnings
            );
            (report.valid, summary, report.valid)
        })
        .await;
    if !valid {
        for d in report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            sayln!("{}", crate::validate::render(d, &specs));
        }
        sayln!("\nverification stopped: the spec has errors (see above)");
        return Ok(ExitCode::from(1));
    }

    let session = Session::open(Server::Implementation, session::project(&root, None)?).await?;
    steps.session = Some(&session);

    // 2. Tests, traced to scenarios.
    let mut runs: Vec<TestRunReport> = Vec::new();
    for profile in &profiles {
        let result = steps
            .step(&format!("tests ({profile})"), async {
                let answer = session
                    .call_as::<RunTestsResult>("run_tests", json!({ "profile": profile }))
                    .await;
                match answer {
                    Ok(RunTestsResult { report, .. }) => {
                        let t = &report.tests;
                        let mut summary = format!(
                            "{} passed, {} failed, {} skipped",
                            t.passed, t.failed, t.skipped
                        );
                        if let Some(how) = unusual_exit(&report.exit) {
                            summary.push_str(&format!("; {how}"));
                        }
                        summary.push_str(&not_recorded(report.run_id, &report.problems));
                        (report.ok, summary, Some(report))
                    }
                    Err(e) => (false, first_line(&e), None),
                }
            })
            .await;
        runs.extend(result);
    }

    // 3–6. The service: examples and constraints against it.
    let mut checks: Option<CheckReport> = None;
    let mut constraints: Vec<ConstraintVerdict> = Vec::new();
    let mut consistency: Option<ConsistencyCheck> = None;
    if has_service {
        let started = steps
            .step("start service", async {
                match session
                    .call_as::<StartResult>("start_service", json!({}))
                    .await
                {
                    Ok(r) => {
                        let state = match r.status.state {
                            ServiceState::Running => "running",
                            ServiceState::Exited { .. } => "exited",
                        };
                        let mut summary = format!("{state} at {}", r.status.base_url);
                        for warning in &r.status.warnings {
                            summary.push_str(&format!("; warning: {warning}"));
                        }
                        (true, summary, Ok(()))
                    }
                    Err(e) => (false, first_line(&e), Err(e)),
                }
            })
            .await;
        // The service's last output follows the first line of a failed start: that is where
        // it says why it did not start.
        let started = match started {
            Ok(()) => true,
            Err(e) => {
                for line in e.lines().skip(1) {
                    sayln!("      {line}");
                }
                false
            }
        };
        if started {
            checks = steps
                .step("executable examples", async {
                    match session
                        .call_as::<CheckResult>("check_scenarios", json!({ "limit": MAX_PAGE }))
                        .await
                    {
                        Ok(r) => {
                            let s = &r.report.summary;
                            let summary = format!(
                                "{} passing, {} failing, {} approved without examples{}{}",
                                s.passing,
                                s.failing,
                                s.without_examples,
                                not_recorded(r.run_id, &r.problems),
                                listed_part(&r.page)
                            );
                            (s.failing == 0, summary, Some(r.report))
                        }
                        Err(e) => (false, first_line(&e), None),
                    }
                })
                .await;
            if !options.skip_constraints {
                let mut arguments = json!({ "details": true, "limit": MAX_PAGE });
                if let Some(seconds) = options.duration {
                    arguments["duration_seconds"] = json!(seconds);
                }
                let answered = steps
                    .step("constraints", async {
                        let answer = session
                            .call_as::<VerifyResult>("verify_constraints", arguments)
                            .await;
                        match answer {
                            Ok(r) => {
                                let s = &r.summary;
                                let summary = format!(
                                    "{} passing, {} failing, {} inconclusive, {} unchecked{}{}",
                                    s.passing,
                                    s.failing,
                                    s.inconclusive,
                                    s.unchecked,
                                    not_recorded(r.run_id, &r.problems),
                                    listed_part(&r.page)
                                );
                                (s.failing == 0, summary, Some(r))
                            }
                            Err(e) => (false, first_line(&e), None),
                        }
                    })
                    .await;
                if let Some(r) = answered {
                    constraints = r.constraints;
                    consistency = Some(r.consistency);
                }
                steps
                    .step(consistency::NAME, async {
                        match &consistency {
                            Some(c) => (c.verdict != Some(Verdict::Failing), c.summary.clone(), ()),
                            None => (
                                true,
                                "not run: the constraints were not verified".to_string(),
                                (),
                            ),
                        }
                    })
                    .await;
            }
            steps
                .step("stop service", async {
                    match session
                        .call_as::<StopReport>("stop_service", json!({}))
                        .await
                    {
                        Ok(r) if r.graceful => (true, "stopped gracefully".to_string(), ()),
                        Ok(_) => (
                            true,
                            "stopped, but only by SIGKILL after the grace period".to_string(),
                            (),
                        ),
                        Err(e) => (false, first_line(&e), ()),
                    }
                })
                .await;
        }
    }
    let steps = steps.steps;
    session.close().await;

    let scenarios = scenario_rows(&loaded.spec, &runs, checks.as_ref());
    let (overall, headline, not_verified) = standing(
        &loaded.spec,
        &steps,
        &scenarios,
        &constraints,
        consistency.as_ref(),
    );
    let verification = Verification {
        project: root.display().to_string(),
        started_at,
        duration_seconds: clock.elapsed().as_secs_f64(),
        ok: overall.nothing_failed(),
        overall: Some(overall),
        headline,
        not_verified,
        steps,
        scenarios,
        constraints,
        consistency,
    };
    print_summary(&verification);
    match save(&root, &verification) {
        Ok(path) => sayln!(
            "saved: {} — `sdd report` turns it into a page",
            shown(&path)
        ),
        Err(e) => eprintln!("warning: the verification was not saved: {e}"),
    }
    Ok(ExitCode::from(exit_status(overall, options.strict)))
}

/// 0 when nothing failed, 1 when something did; with `--strict`, 3 when nothing failed but
/// something was not verified.
fn exit_status(overall: Overall, strict: bool) -> u8 {
    match overall {
        Overall::Verified => 0,
        Overall::NoFailures if strict => 3,
        Overall::NoFailures => 0,
        Overall::Failed => 1,
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

/// `; not recorded: …` when the server could not record the run in the history (its
/// `run_id` is absent and a problem says why), so a step never looks recorded when it is not.
fn not_recorded(run_id: Option<i64>, problems: &[String]) -> String {
    if run_id.is_some() {
        return String::new();
    }
    let why = problems
        .iter()
        .find_map(|p| p.strip_prefix(sdd_verify::record::NOT_RECORDED))
        .map_or("no run id".to_string(), first_line);
    format!("; not recorded in the history: {why}")
}

/// `; N of M listed in the report, failing first` when a run's answer listed only part of its
/// results (more than one page: [`MAX_PAGE`]); the counts before it cover them all.
fn listed_part(page: &Page) -> String {
    if page.next_offset.is_none() {
        return String::new();
    }
    format!(
        "; {} of {} listed in the report, failing first (every one is recorded in the history)",
        page.returned, page.total
    )
}

/// How a test run ended when it did not exit by itself: its `exit.kind`.
fn unusual_exit(exit: &Exit) -> Option<&'static str> {
    match exit {
        Exit::Code { .. } => None,
        Exit::Signal { .. } => Some("signal"),
        Exit::TimedOut { .. } => Some("timed_out"),
    }
}

/// How many names the headline lists before it counts the rest.
const HEADLINE_NAMES: usize = 5;

/// Where the verification stands: failed when a step failed, an approved scenario fails or
/// changed since approval, a constraint fails, or something was lost under load; otherwise
/// verified only when every approved scenario passes, every constraint of the spec passed and
/// the consistency check found nothing unchecked — anything else (no test, skipped,
/// inconclusive, unchecked, not run) is named as not verified.
fn standing(
    spec: &sdd_spec::model::Spec,
    steps: &[Step],
    scenarios: &[ScenarioRow],
    constraints: &[ConstraintVerdict],
    consistency: Option<&ConsistencyCheck>,
) -> (Overall, String, Vec<NotVerified>) {
    let (lost, unchecked) = consistency.map_or((0, 0), ConsistencyCheck::counts);
    let failed = steps.iter().filter(|s| !s.ok).count()
        + scenarios
            .iter()
            .filter(|s| s.verdict == "failing" || s.review == CHANGED_SINCE_APPROVAL)
            .count()
        + constraints
            .iter()
            .filter(|c| c.verdict == Verdict::Failing)
            .count()
        + lost;
    let mut not_verified = Vec::new();
    let approved: Vec<&ScenarioRow> = scenarios
        .iter()
        .filter(|s| s.review == "approved")
        .collect();
    for s in &approved {
        if !matches!(s.verdict.as_str(), "passing" | "failing") {
            let why = match s.verdict.as_str() {
                "-" => "no test or example traced to it",
                other => other,
            };
            not_verified.push(NotVerified {
                subject: s.id.clone(),
                why: why.into(),
            });
        }
    }
    for c in &spec.constraints {
        match constraints.iter().find(|v| v.constraint_id == c.id) {
            Some(v) if matches!(v.verdict, Verdict::Inconclusive | Verdict::Unchecked) => {
                not_verified.push(NotVerified {
                    subject: c.id.clone(),
                    why: v.verdict.as_str().into(),
                })
            }
            Some(_) => {}
            None => not_verified.push(NotVerified {
                subject: c.id.clone(),
                why: "not run".into(),
            }),
        }
    }
    if unchecked > 0 {
        not_verified.push(NotVerified {
            subject: consistency::NAME.into(),
            why: "unchecked".into(),
        });
    }
    let overall = Overall::of(failed, not_verified.len());
    let tallies = [
        Tally {
            kind: "approved scenarios",
            verified: approved.iter().filter(|s| s.verdict == "passing").count(),
            total: approved.len(),
        },
        Tally {
            kind: "constraints",
            verified: constraints
                .iter()
                .filter(|v| v.verdict == Verdict::Passing)
                .count(),
            total: spec.constraints.len(),
        },
    ];
    let line = headline(overall, &tallies, &not_verified, HEADLINE_NAMES);
    (overall, line, not_verified)
}

fn scenario_rows(
    spec: &sdd_spec::model::Spec,
    runs: &[TestRunReport],
    checks: Option<&CheckReport>,
) -> Vec<ScenarioRow> {
    // One row per ID: a duplicate (reported by validate as `duplicate-id`) would show the
    // first's verdict under its own name.
    spec.unique_scenarios()
        .map(|scenario| {
            let id = scenario.id.as_str();
            let mut detail = None;
            // Over several profiles: failing wins, then passing, then the rest.
            let mut tests: Option<ScenarioVerdict> = None;
            for run in runs {
                let Some(trace) = run
                    .traceability
                    .scenarios
                    .iter()
                    .find(|t| t.scenario_id == id)
                else {
                    continue;
                };
                if trace.verdict == ScenarioVerdict::Failing && detail.is_none() {
                    detail = run
                        .failures
                        .iter()
                        .find(|f| f.scenario_id.as_deref() == Some(id))
                        .map(|f| {
                            format!("{}: {}", f.test, f.message.as_deref().unwrap_or("failed"))
                        });
                }
                if tests.is_none_or(|t| rank(trace.verdict) < rank(t)) {
                    tests = Some(trace.verdict);
                }
            }
            let mut tests = tests.map_or("-", ScenarioVerdict::as_str).to_string();
            // Tests for proposals are run too; their outcome is shown, not judged.
            let proposal_outcomes: Vec<&str> = runs
                .iter()
                .flat_map(|run| &run.traceability.tests_for_unapproved_scenarios)
                .filter(|t| t.scenario_id == id)
                .map(|t| match t.outcome {
                    Outcome::Failed => "failing",
                    Outcome::Passed => "passing",
                    Outcome::Skipped => "skipped",
                    Outcome::NotRun => "not_run",
                })
                .collect();
            if tests == "-" && !proposal_outcomes.is_empty() {
                tests = ["failing", "not_run", "passing", "skipped"]
                    .into_iter()
                    .find(|v| proposal_outcomes.contains(v))
                    .unwrap_or("skipped")
                    .to_string();
            }
            let example = checks.and_then(|c| c.scenarios.iter().find(|c| c.scenario_id == id));
            let examples = example
                .map_or("-", |c| match c.verdict {
                    CheckVerdict::Passing => "passing",
                    CheckVerdict::Failing => "failing",
                })
                .to_string();
            if examples == "failing" && detail.is_none() {
                detail = example.and_then(|c| c.first_failure_line());
            }
            let review = match scenario.status {
                ReviewStatus::Approved => "approved",
                ReviewStatus::Proposed => "proposed",
                ReviewStatus::Rejected => "rejected",
                ReviewStatus::ChangedSinceApproval => CHANGED_SINCE_APPROVAL,
            };
            let verdict = if review == CHANGED_SINCE_APPROVAL {
                // Its behaviour is no longer what a person approved: whatever its tests say,
                // it is not verified behaviour, and the whole verification is not VERIFIED.
                format!("{CHANGED_SINCE_APPROVAL}, needs review")
            } else if review != "approved" {
                // Only approved behaviour is verified; proposals wait for `sdd review`.
                format!("{review}, not verified")
            } else if tests == "failing" || examples == "failing" {
                "failing".into()
            } else if tests == ScenarioVerdict::Unverified.as_str() {
                // A test of it may be among those the run's results lost: a passing example
                // does not outweigh a test that may have failed.
                tests.clone()
            } else if tests == "passing" || examples == "passing" {
                "passing".into()
            } else {
                tests.clone()
            };
            ScenarioRow {
                id: id.into(),
                name: scenario.name.clone(),
                review: review.into(),
                tests,
                examples,
                verdict,
                detail,
            }
        })
        .collect()
}

/// Which test verdict a scenario shows when its profiles disagree: the lowest rank.
fn rank(verdict: ScenarioVerdict) -> u8 {
    match verdict {
        ScenarioVerdict::Failing => 0,
        // A run that cannot vouch for it outranks another's pass: never claim more than was read.
        ScenarioVerdict::Unverified => 1,
        ScenarioVerdict::Passing => 2,
        ScenarioVerdict::Skipped => 3,
        ScenarioVerdict::NotRun => 4,
        ScenarioVerdict::NoTest => 5,
    }
}

fn print_summary(v: &Verification) {
    sayln!("\nScenarios");
    let mut table = Table::new(&["scenario", "review", "tests", "examples", "verdict"]);
    for s in &v.scenarios {
        table.row(vec![
            s.id.clone(),
            s.review.clone(),
            s.tests.clone(),
            s.examples.clone(),
            s.verdict.clone(),
        ]);
    }
    crate::say(&table.render());
    for s in v.scenarios.iter().filter(|s| s.detail.is_some()) {
        sayln!("  {}: {}", s.id, s.detail.as_deref().unwrap_or_default());
    }
    if !v.constraints.is_empty() {
        sayln!("\nConstraints");
        let mut table = Table::new(&["constraint", "verdict", "summary"]);
        for c in &v.constraints {
            table.row(vec![
                c.constraint_id.clone(),
                c.verdict.as_str().to_string(),
                c.summary.clone(),
            ]);
        }
        crate::say(&table.render());
        for c in &v.constraints {
            for f in c.findings.iter().take(3) {
                sayln!("  {}: {} — {}", c.constraint_id, f.request, f.problem);
            }
        }
    }
    if let Some(c) = &v.consistency {
        let verdict = c.verdict.map_or("-", Verdict::as_str);
        sayln!("\n{}: {verdict} — {}", consistency::NAME, c.summary);
        for f in c.findings.iter().take(3) {
            sayln!("  {}: {} — {}", consistency::NAME, f.request, f.problem);
        }
        if c.findings.len() > 3 {
            sayln!("  … and {} more in {LAST_VERIFY}", c.findings.len() - 3);
        }
    }
    let mut failed: Vec<&str> = v
        .steps
        .iter()
        .filter(|s| !s.ok)
        .map(|s| s.name.as_str())
        .collect();
    if v.scenarios
        .iter()
        .any(|s| s.review == CHANGED_SINCE_APPROVAL)
    {
        failed.push("scenarios changed since approval (a person must `sdd review` them)");
    }
    sayln!("\n{}", v.headline);
    sayln!(
        "in {:.1} s{}",
        v.duration_seconds,
        if failed.is_empty() {
            String::new()
        } else {
            format!(" — failing steps: {}", failed.join(", "))
        }
    );
}

fn save(root: &Path, v: &Verification) -> Result<std::path::PathBuf, String> {
    let path = root.join(LAST_VERIFY);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let text = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    // Write then rename: a report never reads half a file.
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, text)
        .and_then(|_| std::fs::rename(&partial, &path))
        .map_err(|e| e.to_string())?;
    Ok(path)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::Value;

    const SPEC: &str = "feature: T\ndomain: t\nscenarios:\n  - name: Kept\n    when: w\n    then: [x]\n  - name: Weakened\n    when: w\n    then: [it may fail]\n    status: approved\n    reviewed_by: Ada\n    approved_fingerprint: \"sha256:0000\"\n  - name: Idea\n    when: w\n    then: [y]\n    status: proposed\n    rationale: r\n";

    fn spec() -> sdd_spec::model::Spec {
        sdd_spec::load_sources(&[("t.yaml".into(), SPEC.into())]).spec
    }

    /// A `run_tests` answer as the server writes it, read with the type the CLI reads it with.
    fn run(verdicts: &[(&str, &str)], failures: Value, unapproved: Value) -> TestRunReport {
        let scenarios: Vec<Value> = verdicts
            .iter()
            .map(|(id, verdict)| json!({"scenario_id": id, "name": id, "domain": "t", "verdict": verdict}))
            .collect();
        let answer = json!({
            "profile": "unit", "command": "true", "exit": {"kind": "code", "code": 1},
            "duration_seconds": 0.1, "tree": {}, "ok": false,
            "tests": {"total": 2, "passed": 1, "failed": 1, "skipped": 0},
            "failures": failures, "more_failures": 0, "regressions": [],
            "traceability": {
                "summary": {"approved_scenarios": 2, "passing": 1, "failing": 1, "skipped": 0,
                            "no_test": 0, "not_run": 0, "tests": 2, "unmapped_tests": 0},
                "scenarios": scenarios, "unmapped_tests": [],
                "tests_for_unapproved_scenarios": unapproved
            },
            "problems": [], "scenarios_omitted": 0, "unmapped_tests_omitted": 0
        });
        let result: RunTestsResult = serde_json::from_value(answer).expect("a run_tests answer");
        result.report
    }

    /// A run whose results did not reconcile leaves its scenarios `unverified`: never passing,
    /// and the verification is not VERIFIED.
    #[test]
    fn an_unverified_scenario_is_not_verified() {
        let spec = spec();
        let runs = [run(&[("t.kept", "unverified")], json!([]), json!([]))];
        let rows = scenario_rows(&spec, &runs, None);
        let kept: Vec<ScenarioRow> = rows.into_iter().filter(|r| r.id == "t.kept").collect();
        assert_eq!(kept[0].verdict, "unverified");
        let (overall, _, not_verified) = standing(&spec, &[], &kept, &[], None);
        assert_ne!(overall, Overall::Verified);
        assert!(not_verified
            .iter()
            .any(|n| n.subject == "t.kept" && n.why == "unverified"));
    }

    #[test]
    fn a_scenario_changed_since_approval_is_not_verified_whatever_its_tests_say() {
        let spec = spec();
        let passing = [run(
            &[("t.kept", "passing"), ("t.weakened", "passing")],
            json!([]),
            json!([]),
        )];
        let rows = scenario_rows(&spec, &passing, None);
        let weakened = rows.iter().find(|r| r.id == "t.weakened").unwrap();
        assert_eq!(weakened.review, CHANGED_SINCE_APPROVAL);
        assert_eq!(weakened.verdict, "changed since approval, needs review");
        let step = |ok| Step {
            name: "tests".into(),
            ok,
            seconds: 0.0,
            summary: String::new(),
        };
        let kept: Vec<ScenarioRow> = rows.into_iter().filter(|r| r.id == "t.kept").collect();
        let overall =
            |steps: &[Step], rows: &[ScenarioRow]| standing(&spec, steps, rows, &[], None).0;
        assert_eq!(overall(&[step(true)], &kept), Overall::Verified);
        assert_eq!(overall(&[step(false)], &kept), Overall::Failed);
        let rows = scenario_rows(&spec, &passing, None);
        assert_eq!(overall(&[step(true)], &rows), Overall::Failed);
    }

    /// VERIFIED only when every approved scenario passed and every constraint of the spec
    /// passed: one without a test, an inconclusive or unchecked constraint, or a constraint
    /// that was not run at all makes it NO FAILURES, naming each (the bundled example once
    /// printed VERIFIED with 5 of 11 constraints not verified).
    #[test]
    fn the_headline_is_never_stronger_than_the_weakest_evidence() {
        let spec = sdd_spec::load_sources(&[(
            "t.yaml".into(),
            "feature: T\ndomain: t\nconstraints:\n  performance:\n    - name: Fast\n      requirement: p95 under 100 ms\n    - name: Busy\n      requirement: 1000 concurrent users\n    - name: Later\n      requirement: 99.9 % uptime\nscenarios:\n  - name: Kept\n    when: w\n    then: [x]\n  - name: Untested\n    when: w\n    then: [y]\n".into(),
        )])
        .spec;
        let ids: Vec<String> = spec.constraints.iter().map(|c| c.id.clone()).collect();
        let verdict = |id: &str, verdict| ConstraintVerdict::new(id, id, verdict, "");
        let step = Step {
            name: "tests".into(),
            ok: true,
            seconds: 0.0,
            summary: String::new(),
        };
        let rows = scenario_rows(
            &spec,
            &[run(
                &[("t.kept", "passing"), ("t.untested", "no_test")],
                json!([]),
                json!([]),
            )],
            None,
        );
        let all_passing: Vec<_> = ids.iter().map(|id| verdict(id, Verdict::Passing)).collect();
        let (overall, line, missing) = standing(
            &spec,
            std::slice::from_ref(&step),
            &rows[..1],
            &all_passing,
            None,
        );
        assert_eq!((overall, line.as_str()), (Overall::Verified, "VERIFIED"));
        assert!(missing.is_empty());

        let partial = [
            verdict(&ids[0], Verdict::Passing),
            verdict(&ids[1], Verdict::Inconclusive),
        ];
        let (overall, line, missing) =
            standing(&spec, std::slice::from_ref(&step), &rows, &partial, None);
        assert_eq!(overall, Overall::NoFailures);
        let named: Vec<(&str, &str)> = missing
            .iter()
            .map(|n| (n.subject.as_str(), n.why.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("t.untested", "no_test"),
                (ids[1].as_str(), "inconclusive"),
                (ids[2].as_str(), "not run"),
            ]
        );
        assert!(
            line.starts_with("NO FAILURES — 1 of 2 approved scenarios verified, 1 of 3 constraints verified; not verified: t.untested (no_test)"),
            "{line}"
        );
        assert_eq!(exit_status(overall, false), 0);
        assert_eq!(exit_status(overall, true), 3);
        assert_eq!(exit_status(Overall::Verified, true), 0);
        assert_eq!(exit_status(Overall::Failed, false), 1);

        let failing = [verdict(&ids[0], Verdict::Failing)];
        let (overall, line, _) =
            standing(&spec, std::slice::from_ref(&step), &rows, &failing, None);
        assert_eq!(overall, Overall::Failed);
        assert!(line.starts_with("FAILED — "), "{line}");

        // The consistency check after load: what it lost fails the whole verification, what it
        // could not check is named, and nothing to check (no load ran) changes nothing.
        let check = |verdict| {
            let mut c = sdd_verify::consistency::ConsistencyCheck::no_load();
            c.verdict = verdict;
            c
        };
        let rows = &rows[..1];
        let with = |c: &sdd_verify::consistency::ConsistencyCheck| {
            standing(
                &spec,
                std::slice::from_ref(&step),
                rows,
                &all_passing,
                Some(c),
            )
        };
        assert_eq!(with(&check(None)).0, Overall::Verified);
        assert_eq!(with(&check(Some(Verdict::Passing))).0, Overall::Verified);
        let (overall, line, _) = with(&check(Some(Verdict::Failing)));
        assert_eq!(overall, Overall::Failed);
        assert!(line.starts_with("FAILED — "), "{line}");
        let (overall, line, missing) = with(&check(Some(Verdict::Unchecked)));
        assert_eq!(overall, Overall::NoFailures);
        assert_eq!(
            missing,
            [NotVerified {
                subject: "consistency after load".into(),
                why: "unchecked".into()
            }]
        );
        assert!(
            line.ends_with("not verified: consistency after load (unchecked)"),
            "{line}"
        );
    }

    #[test]
    fn rows_combine_profiles_examples_and_proposals() {
        let spec = spec();
        let runs = [
            run(&[("t.kept", "passing")], json!([]), json!([])),
            run(
                &[("t.kept", "failing")],
                json!([{"test": "test_kept", "scenario_id": "t.kept", "message": "assert 1 == 2"}]),
                json!([{"test": "test_idea", "outcome": "failed", "scenario_id": "t.idea",
                        "scenario_status": "proposed"}]),
            ),
        ];
        let checks: CheckResult = serde_json::from_value(json!({
            "base_url": "http://127.0.0.1:1",
            "summary": {"scenarios_checked": 1, "passing": 0, "failing": 1, "without_examples": 0},
            "scenarios": [{"scenario_id": "t.kept", "name": "Kept", "verdict": "failing", "examples": [
                {"name": "e", "verdict": "failing", "steps_not_run": 0, "steps": [
                    {"request": "POST /t", "status": 500, "ok": false, "elapsed_ms": 1.0,
                     "mismatches": [{"at": "status", "expected": "201", "actual": "500"}]}
                ]}
            ]}],
            "page": {"total": 1, "offset": 0, "returned": 1},
            "regressions": []
        }))
        .expect("a check_scenarios answer");
        let rows = scenario_rows(&spec, &runs, Some(&checks.report));
        let kept = rows.iter().find(|r| r.id == "t.kept").unwrap();
        // Failing in one profile is failing; the test's message explains it first.
        assert_eq!(
            (
                kept.tests.as_str(),
                kept.examples.as_str(),
                kept.verdict.as_str()
            ),
            ("failing", "failing", "failing")
        );
        assert_eq!(kept.detail.as_deref(), Some("test_kept: assert 1 == 2"));
        let idea = rows.iter().find(|r| r.id == "t.idea").unwrap();
        assert_eq!(
            (idea.tests.as_str(), idea.verdict.as_str()),
            ("failing", "proposed, not verified")
        );
        // Without the failing test run, the example's first failing step is the detail.
        let rows = scenario_rows(&spec, &runs[..1], Some(&checks.report));
        let kept = rows.iter().find(|r| r.id == "t.kept").unwrap();
        assert_eq!(
            kept.detail.as_deref(),
            Some("POST /t: status expected 201, got 500")
        );
        let weakened = rows.iter().find(|r| r.id == "t.weakened").unwrap();
        assert_eq!(
            (weakened.tests.as_str(), weakened.examples.as_str()),
            ("-", "-")
        );
    }

    /// One constraint verdict as `verify_constraints` answers it with `details`: every field.
    #[test]
    fn a_run_the_server_could_not_record_is_said() {
        assert_eq!(not_recorded(Some(3), &[]), "");
        let problems = [
            "stale results".to_string(),
            "the run was not recorded: run 2 in the run history h gives a the status `flaky`\nmore"
                .to_string(),
        ];
        assert_eq!(
            not_recorded(None, &problems),
            "; not recorded in the history: run 2 in the run history h gives a the status `flaky`"
        );
        assert_eq!(
            not_recorded(None, &[]),
            "; not recorded in the history: no run id"
        );
    }

    pub(crate) fn measured_verdict() -> Value {
        json!({
            "constraint_id": "tasks.performance.read_latency",
            "name": "Read latency",
            "verdict": "failing",
            "summary": "p95 = 140.2 ms, limit 100 ms",
            "notes": ["rate lowered to 300 req/s"],
            "run": {"model": "open", "rate": 300.0, "connections": 8, "duration_seconds": 10.0,
                    "endpoints": ["GET /tasks"]},
            "measured": {
                "model": "open", "target_rate": 300.0, "achieved_rate": 299.5,
                "duration_seconds": 10.0, "warmup_requests": 60, "requests": 2995, "ok": 2990,
                "latency_ms": {"p50": 20.1, "p90": 41.0, "p95": 140.2, "p99": 210.7,
                               "p999": 212.0, "max": 230.5, "mean": 35.25},
                "errors": {"connect": 0, "timeout": 0, "connection": 0, "status_4xx": 0,
                           "status_5xx": 5},
                "status_counts": {"200": 2990, "500": 5},
                "first_error": "500 Internal Server Error",
                "generator": {"limited": false, "wake_lag_p99_ms": 0.4, "queued_requests": 3,
                              "connections": 8, "threads": 2, "cpu_seconds": 0.3,
                              "cpu_us_per_request": 100.2, "busy_share": 0.02,
                              "unsent_requests": 0},
                "curve": [[50.0, 20.1], [99.0, 210.7]],
                "extra_percentiles": [[99.5, 211.0]]
            },
            "findings": [{"request": "GET /tasks", "problem": "500"}],
            "latency_limit": {"percentile": 95.0, "max_ms": 100.0}
        })
    }

    /// `.sdd/last-verify.json` keeps the constraint verdicts exactly as `verify_constraints`
    /// answered them: reading them with the typed `ConstraintVerdict` and writing them back
    /// loses and adds nothing.
    #[test]
    fn saved_constraints_are_the_answer_field_for_field() {
        let answered = measured_verdict();
        let verification = Verification {
            project: "p".into(),
            started_at: "2026-11-22T11:31:36Z".into(),
            duration_seconds: 1.0,
            ok: false,
            overall: Some(Overall::Failed),
            headline: "FAILED".into(),
            not_verified: Vec::new(),
            steps: Vec::new(),
            scenarios: Vec::new(),
            constraints: vec![serde_json::from_value(answered.clone()).expect("a verdict")],
            consistency: None,
        };
        let saved = serde_json::to_value(&verification).unwrap();
        assert_eq!(saved["constraints"][0], answered);
        let read: Verification = serde_json::from_value(saved.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), saved);
    }
}

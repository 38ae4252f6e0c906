//! `sdd verify`: the whole loop on a project, in order — validate the specs, run every test
//! profile and trace the results to scenarios, start the service, run the executable
//! examples, verify the constraints, stop the service — then one table per scenario and per
//! constraint. Every step after validation goes through the implementation server's tools, so
//! the runs land in the project's history like an agent's. The whole result is also written to
//! `.sdd/last-verify.json` for `sdd report`. Exit 1 on any failure.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use sdd_spec::analysis::validate::validate;
use sdd_spec::document::ReviewStatus;
use sdd_spec::Severity;

use crate::session::{self, Server, Session};
use crate::table::Table;
use crate::{sayln, shown, Options};

/// Where the last verification is kept, under the project root.
pub const LAST_VERIFY: &str = ".sdd/last-verify.json";

/// The review column of a scenario written `approved` whose behaviour changed since then.
pub const CHANGED_SINCE_APPROVAL: &str = "changed since approval";

#[derive(Debug, Serialize, Deserialize)]
pub struct Verification {
    pub project: String,
    pub started_at: String,
    pub duration_seconds: f64,
    pub ok: bool,
    pub steps: Vec<Step>,
    pub scenarios: Vec<ScenarioRow>,
    /// The constraint verdicts as `verify_constraints` returned them, with measurements.
    pub constraints: Vec<Value>,
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

pub async fn run(options: &Options) -> Result<ExitCode, String> {
    let root = options.project_root()?;
    let file = sdd_spec::project::load_project_file(&root)
        .map_err(|d| crate::validate::render(&d, &root))?;
    let specs = options.specs();
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
            3 + usize::from(!options.skip_constraints)
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
    let mut traces: Vec<Value> = Vec::new();
    for profile in &profiles {
        let result = steps
            .step(&format!("tests ({profile})"), async {
                match session
                    .call("run_tests", json!({ "profile": profile }))
                    .await
                {
                    Ok(r) => {
                        let t = &r["tests"];
                        let mut summary = format!(
                            "{} passed, {} failed, {} skipped",
                            t["passed"], t["failed"], t["skipped"]
                        );
                        if r["exit"]["kind"] != "code" {
                            summary.push_str(&format!("; {}", r["exit"]["kind"]));
                        }
                        (r["ok"] == true, summary, Some(r))
                    }
                    Err(e) => (false, first_line(&e), None),
                }
            })
            .await;
        traces.extend(result);
    }

    // 3–6. The service: examples and constraints against it.
    let mut checks = Value::Null;
    let mut constraints: Vec<Value> = Vec::new();
    if has_service {
        let started = steps
            .step("start service", async {
                match session.call("start_service", json!({})).await {
                    Ok(r) => (
                        true,
                        format!(
                            "{} at {}",
                            r["state"].as_str().unwrap_or("?"),
                            r["base_url"].as_str().unwrap_or("?")
                        ),
                        true,
                    ),
                    Err(e) => (false, first_line(&e), false),
                }
            })
            .await;
        if started {
            checks = steps
                .step("executable examples", async {
                    match session.call("check_scenarios", json!({})).await {
                        Ok(r) => {
                            let s = &r["summary"];
                            let summary = format!(
                                "{} passing, {} failing, {} approved without examples",
                                s["passing"], s["failing"], s["without_examples"]
                            );
                            (s["failing"] == 0, summary, r)
                        }
                        Err(e) => (false, first_line(&e), Value::Null),
                    }
                })
                .await;
            if !options.skip_constraints {
                let mut arguments = json!({ "details": true });
                if let Some(seconds) = options.duration {
                    arguments["duration_seconds"] = json!(seconds);
                }
                constraints = steps
                    .step("constraints", async {
                        match session.call("verify_constraints", arguments).await {
                            Ok(r) => {
                                let s = &r["summary"];
                                let summary = format!(
                                    "{} passing, {} failing, {} inconclusive, {} unchecked",
                                    s["passing"], s["failing"], s["inconclusive"], s["unchecked"]
                                );
                                let list = r["constraints"].as_array().cloned().unwrap_or_default();
                                (s["failing"] == 0, summary, list)
                            }
                            Err(e) => (false, first_line(&e), Vec::new()),
                        }
                    })
                    .await;
            }
            steps
                .step("stop service", async {
                    match session.call("stop_service", json!({})).await {
                        Ok(r) if r["graceful"] == true => {
                            (true, "stopped gracefully".to_string(), ())
                        }
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

    let scenarios = scenario_rows(&loaded.spec, &traces, &checks);
    let ok = verified(&steps, &scenarios);
    let verification = Verification {
        project: root.display().to_string(),
        started_at,
        duration_seconds: clock.elapsed().as_secs_f64(),
        ok,
        steps,
        scenarios,
        constraints,
    };
    print_summary(&verification);
    match save(&root, &verification) {
        Ok(path) => sayln!(
            "saved: {} — `sdd report` turns it into a page",
            shown(&path)
        ),
        Err(e) => eprintln!("warning: the verification was not saved: {e}"),
    }
    Ok(if verification.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

/// One row per scenario: its review state, what the tests and examples say, and the verdict.
/// VERIFIED only when every step passed, no scenario fails, and every scenario written
/// `approved` is still the behaviour a person approved.
fn verified(steps: &[Step], scenarios: &[ScenarioRow]) -> bool {
    steps.iter().all(|s| s.ok)
        && scenarios
            .iter()
            .all(|s| s.verdict != "failing" && s.review != CHANGED_SINCE_APPROVAL)
}

fn scenario_rows(
    spec: &sdd_spec::model::Spec,
    traces: &[Value],
    checks: &Value,
) -> Vec<ScenarioRow> {
    spec.scenarios
        .iter()
        .map(|scenario| {
            let id = scenario.id.as_str();
            let mut detail = None;
            // Over several profiles: failing wins, then passing, then the rest.
            let mut tests = "-".to_string();
            for run in traces {
                let Some(trace) = run["traceability"]["scenarios"]
                    .as_array()
                    .and_then(|list| list.iter().find(|t| t["scenario_id"] == id))
                else {
                    continue;
                };
                let verdict = trace["verdict"].as_str().unwrap_or("-");
                if verdict == "failing" && detail.is_none() {
                    detail = run["failures"]
                        .as_array()
                        .and_then(|f| f.iter().find(|f| f["scenario_id"] == id))
                        .map(|f| {
                            format!(
                                "{}: {}",
                                f["test"].as_str().unwrap_or("?"),
                                f["message"].as_str().unwrap_or("failed")
                            )
                        });
                }
                let rank = |v: &str| match v {
                    "failing" => 0,
                    "passing" => 1,
                    "skipped" => 2,
                    "not_run" => 3,
                    "no_test" => 4,
                    _ => 5,
                };
                if rank(verdict) < rank(&tests) {
                    tests = verdict.to_string();
                }
            }
            // Tests for proposals are run too; their outcome is shown, not judged.
            let proposal_outcomes: Vec<&str> = traces
                .iter()
                .flat_map(|run| {
                    run["traceability"]["tests_for_unapproved_scenarios"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .filter(|t| t["scenario_id"] == id)
                .map(|t| match t["outcome"].as_str() {
                    Some("failed") => "failing",
                    Some("passed") => "passing",
                    _ => "skipped",
                })
                .collect();
            if tests == "-" && !proposal_outcomes.is_empty() {
                tests = ["failing", "passing", "skipped"]
                    .into_iter()
                    .find(|v| proposal_outcomes.contains(v))
                    .unwrap_or("skipped")
                    .to_string();
            }
            let example = checks["scenarios"]
                .as_array()
                .and_then(|list| list.iter().find(|c| c["scenario_id"] == id));
            let examples = example
                .and_then(|c| c["verdict"].as_str())
                .unwrap_or("-")
                .to_string();
            if examples == "failing" && detail.is_none() {
                detail = example.and_then(example_failure);
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

/// The first failing step of a scenario's examples: the request and what differed.
fn example_failure(check: &Value) -> Option<String> {
    let steps = check["examples"]
        .as_array()?
        .iter()
        .flat_map(|e| e["steps"].as_array().cloned().unwrap_or_default());
    for step in steps {
        if step["ok"] == true {
            continue;
        }
        let request = step["request"].as_str().unwrap_or("?");
        if let Some(error) = step["error"].as_str() {
            return Some(format!("{request}: {error}"));
        }
        let mismatch = step["mismatches"].get(0).map(|m| {
            format!(
                "{} expected {}, got {}",
                m["at"].as_str().unwrap_or("response"),
                m["expected"].as_str().unwrap_or_default(),
                m["actual"].as_str().unwrap_or_default()
            )
        });
        return Some(format!(
            "{request} → {}: {}",
            step["status"],
            mismatch.unwrap_or_else(|| "unexpected answer".into())
        ));
    }
    None
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
                c["constraint_id"].as_str().unwrap_or("?").to_string(),
                c["verdict"].as_str().unwrap_or("?").to_string(),
                c["summary"].as_str().unwrap_or_default().to_string(),
            ]);
        }
        crate::say(&table.render());
        for c in &v.constraints {
            for f in c["findings"].as_array().into_iter().flatten().take(3) {
                sayln!(
                    "  {}: {} — {}",
                    c["constraint_id"].as_str().unwrap_or("?"),
                    f["request"].as_str().unwrap_or("?"),
                    f["problem"].as_str().unwrap_or("?")
                );
            }
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
    sayln!(
        "\n{} in {:.1} s{}",
        if v.ok { "VERIFIED" } else { "FAILED" },
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
mod tests {
    use super::*;

    #[test]
    fn a_scenario_changed_since_approval_is_not_verified_whatever_its_tests_say() {
        let spec = sdd_spec::load_sources(&[(
            "t.yaml".into(),
            "feature: T\ndomain: t\nscenarios:\n  - name: Kept\n    when: w\n    then: [x]\n  - name: Weakened\n    when: w\n    then: [it may fail]\n    status: approved\n    reviewed_by: Ada\n    approved_fingerprint: \"sha256:0000\"\n".into(),
        )])
        .spec;
        let passing = serde_json::json!([{"traceability": {"scenarios": [
            {"scenario_id": "t.kept", "verdict": "passing"},
            {"scenario_id": "t.weakened", "verdict": "passing"}
        ]}}]);
        let rows = scenario_rows(&spec, passing.as_array().unwrap(), &Value::Null);
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
        assert!(verified(&[step(true)], &kept));
        assert!(!verified(&[step(false)], &kept));
        let rows = scenario_rows(&spec, passing.as_array().unwrap(), &Value::Null);
        assert!(!verified(&[step(true)], &rows));
    }
}

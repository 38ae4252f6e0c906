//! `sdd review`: the human approval step. Each proposed scenario (and each scenario whose
//! behaviour changed since it was approved) is shown with its rationale and approved, rejected
//! or edited in the terminal, recording who, when and a fingerprint of what was approved.
//! Scripted decisions must name the person (`--by`); the name is recorded, not authenticated.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use sdd_spec::approval::scenario_fingerprint;
use sdd_spec::document::ReviewStatus;
use sdd_spec::review::{decide, now_rfc3339, Decision, ReviewError};

use crate::cli::ReviewArgs;
use crate::{say, sayln};

pub fn run(options: &ReviewArgs) -> Result<ExitCode, String> {
    let specs = options.specs.specs();
    let loaded = sdd_spec::load_dir(&specs).map_err(|e| e.to_string())?;
    // Decisions go by ID, and a duplicate's ID is the first's: it cannot be decided until it
    // has its own. Said, not left out silently.
    let (duplicates, proposals): (Vec<_>, Vec<_>) = loaded
        .spec
        .scenarios
        .iter()
        .filter(|s| needs_review(s.status))
        .partition(|s| s.is_duplicate());
    for s in &duplicates {
        sayln!(
            "{}  ({})  {}  [not reviewable: its ID is already used at {}; give it its own `id:`]",
            s.id,
            s.location,
            s.name,
            s.duplicate_of
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
    }
    if options.list {
        for s in &proposals {
            let changed = if s.status == ReviewStatus::ChangedSinceApproval {
                "  [changed since approval]"
            } else {
                ""
            };
            sayln!("{}  ({})  {}{changed}", s.id, s.location, s.name);
        }
        sayln!("{} scenario(s) waiting for review", proposals.len());
        return Ok(ExitCode::SUCCESS);
    }
    let scripted = !options.approve.is_empty() || !options.reject.is_empty();
    if scripted {
        let by = options
            .by
            .as_deref()
            .ok_or("scripted decisions must name the person: add --by NAME")?;
        let decisions = options
            .approve
            .iter()
            .map(|id| (id, Decision::Approve))
            .chain(options.reject.iter().map(|id| (id, Decision::Reject)));
        for (id, decision) in decisions {
            let scenario = loaded
                .spec
                .scenario(id)
                .ok_or_else(|| format!("no scenario `{id}`; see `sdd review --list`"))?;
            if !needs_review(scenario.status) {
                return Err(format!(
                    "`{id}` is {:?}, not proposed or changed since approval; nothing to decide",
                    scenario.status
                )
                .to_lowercase());
            }
            // The decision covers the scenario as this command read it, nothing edited since.
            let shown = scenario_fingerprint(scenario);
            decide(&specs, id, decision, by, &now_rfc3339(), Some(&shown))
                .map_err(|e| e.to_string())?;
            sayln!(
                "{} {id} (by {by})",
                if decision == Decision::Approve {
                    "approved"
                } else {
                    "rejected"
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if proposals.is_empty() {
        sayln!("no proposals waiting for review");
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() && options.by.is_none() {
        return Err(
            "interactive review needs a terminal; in scripts use --approve/--reject ID --by NAME"
                .into(),
        );
    }
    let mut lines = stdin.lock().lines();
    let mut ask = |prompt: &str| -> Option<String> {
        say(prompt);
        lines
            .next()
            .and_then(Result::ok)
            .map(|l| l.trim().to_string())
    };
    let by = match &options.by {
        Some(by) => by.clone(),
        None => ask("Your name (recorded as reviewer): ")
            .filter(|n| !n.is_empty())
            .ok_or("a review must name the reviewer")?,
    };
    let (mut approved, mut rejected) = (0, 0);
    let ids: Vec<String> = proposals.iter().map(|s| s.id.clone()).collect();
    for (i, id) in ids.iter().enumerate() {
        loop {
            // Read again every time: an edit may have changed the scenario.
            let loaded = sdd_spec::load_dir(&specs).map_err(|e| e.to_string())?;
            let Some(s) = loaded.spec.scenario(id) else {
                sayln!(
                    "\n[{}/{}] {id} is gone (renamed in the edit?); moving on",
                    i + 1,
                    ids.len()
                );
                break;
            };
            show(i, ids.len(), s);
            let Some(answer) = ask("[a]pprove, [r]eject, [e]dit, [s]kip, [q]uit? ") else {
                say("\n");
                return Ok(finish(approved, rejected));
            };
            let decision = match answer.as_str() {
                "a" | "approve" => Decision::Approve,
                "r" | "reject" => Decision::Reject,
                "e" | "edit" => {
                    edit(&specs.join(&s.location.file), s.location.line)?;
                    continue;
                }
                "s" | "skip" | "" => break,
                "q" | "quit" => return Ok(finish(approved, rejected)),
                _ => continue,
            };
            // Only what was on the screen is approved: if the file changed meanwhile, show it again.
            let shown = scenario_fingerprint(s);
            match decide(&specs, id, decision, &by, &now_rfc3339(), Some(&shown)) {
                Err(ReviewError::ChangedSinceShown(_)) => {
                    sayln!("    the scenario changed while it was on screen; here it is again");
                    continue;
                }
                other => other.map_err(|e| e.to_string())?,
            }
            match decision {
                Decision::Approve => approved += 1,
                Decision::Reject => rejected += 1,
            }
            break;
        }
    }
    Ok(finish(approved, rejected))
}

/// Proposals, and approved scenarios whose behaviour changed since the approval.
fn needs_review(status: ReviewStatus) -> bool {
    matches!(
        status,
        ReviewStatus::Proposed | ReviewStatus::ChangedSinceApproval
    )
}

fn show(index: usize, total: usize, s: &sdd_spec::model::Scenario) {
    sayln!("\n[{}/{}] {} — {}", index + 1, total, s.id, s.name);
    if s.status == ReviewStatus::ChangedSinceApproval {
        sayln!(
            "    CHANGED SINCE APPROVAL by {} at {}: the behaviour below is not what was approved",
            s.reviewed_by.as_deref().unwrap_or("?"),
            s.reviewed_at.as_deref().unwrap_or("?")
        );
    }
    sayln!(
        "    at {}; proposed by {}",
        s.location,
        s.proposed_by.as_deref().unwrap_or("?")
    );
    if let Some(r) = &s.rationale {
        sayln!("    why: {r}");
    }
    for g in &s.given {
        sayln!("    Given {g}");
    }
    if let Some(w) = &s.when {
        sayln!("    When  {w}");
    }
    for t in &s.then {
        sayln!("    Then  {t}");
    }
    if !s.tags.is_empty() {
        sayln!("    tags: {}", s.tags.join(", "));
    }
    // Examples run against the service once approved: the person sees every step in full.
    for (n, example) in s.examples.iter().enumerate() {
        let name = example
            .name
            .clone()
            .unwrap_or_else(|| format!("example {}", n + 1));
        sayln!("    Example: {name}");
        for step in &example.steps {
            let request = serde_json::to_string(&step.request).unwrap_or_default();
            let expect = serde_json::to_string(&step.expect).unwrap_or_default();
            sayln!("      request {request}");
            sayln!("      expect  {expect}");
            if !step.capture.is_empty() {
                let capture = serde_json::to_string(&step.capture).unwrap_or_default();
                sayln!("      capture {capture}");
            }
        }
    }
}

/// Open the person's editor (`$VISUAL`, `$EDITOR`, else `vi`) on `file` at `line`, and wait.
fn edit(file: &std::path::Path, line: usize) -> Result<(), String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    // Through the shell, as git does, so `EDITOR="code --wait"` works.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(&editor)
        .arg(format!("+{line}"))
        .arg(file)
        .status()
        .map_err(|e| format!("cannot start the editor `{editor}`: {e}"))?;
    if !status.success() {
        sayln!("    the editor exited with {status}; the file is as it left it");
    }
    Ok(())
}

fn finish(approved: usize, rejected: usize) -> ExitCode {
    sayln!("{approved} approved, {rejected} rejected");
    ExitCode::SUCCESS
}

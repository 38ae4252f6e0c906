//! `sdd history prune`: the run history cut to its retention at once, and the space given back.

use std::process::ExitCode;

use sdd_history::{History, PruneReport, HISTORY_FILE};

use crate::cli::PruneArgs;
use crate::sayln;

pub fn prune(args: &PruneArgs) -> Result<ExitCode, String> {
    let root = args.project.root()?;
    if !root.join(HISTORY_FILE).exists() {
        sayln!("no run history at {HISTORY_FILE}: nothing to prune");
        return Ok(ExitCode::SUCCESS);
    }
    // sdd.yaml's retention, each number overridden by its flag; without sdd.yaml, the defaults.
    let file = if root.join(sdd_spec::project::PROJECT_FILE).exists() {
        sdd_spec::project::load_project_file(&root).map_err(|d| d.message.clone())?
    } else {
        sdd_spec::project::parse_project_file("{}").map_err(|d| d.message.clone())?
    };
    let mut retention = sdd_verify::record::retention(&file.history);
    if let Some(n) = args.keep_runs {
        retention.runs = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(n) = args.keep_test_rows {
        retention.test_rows_runs = usize::try_from(n).unwrap_or(usize::MAX);
    }
    let mut history = History::open(&root).map_err(|e| e.to_string())?;
    let before = history.size_on_disk();
    let removed = history
        .prune(retention, args.dry_run)
        .map_err(|e| e.to_string())?;
    // The floors as the history applies them; test rows go with their runs.
    let runs_kept = retention.runs.max(1);
    let kept = format!(
        "keeping per profile the latest {runs_kept} run(s), the per-test rows of the latest {}",
        retention.test_rows_runs.max(2).min(runs_kept)
    );
    if args.dry_run {
        sayln!("would remove {} ({kept})", said(&removed));
        sayln!("{HISTORY_FILE}: {} now", size(before));
        return Ok(ExitCode::SUCCESS);
    }
    history.vacuum().map_err(|e| e.to_string())?;
    let after = history.size_on_disk();
    sayln!("removed {} ({kept})", said(&removed));
    sayln!("{HISTORY_FILE}: {} → {}", size(before), size(after));
    Ok(ExitCode::SUCCESS)
}

fn said(r: &PruneReport) -> String {
    format!(
        "{} run(s) with {} scenario result(s), {} per-test row(s)",
        r.runs, r.results, r.test_rows
    )
}

fn size(bytes: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    if bytes as f64 >= MB {
        format!("{:.1} MB", bytes as f64 / MB)
    } else {
        format!("{:.0} KB", (bytes as f64 / 1024.0).ceil())
    }
}

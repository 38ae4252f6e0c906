//! `sdd export k6`: the load `sdd verify` measures constraints with, written as a k6 script by
//! the implementation server's `export_load_test` (called over the real protocol, as `verify`
//! calls its tools), then where it went and how to run it.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Map, Value};

use sdd_implementation_server::ExportResult;

use crate::cli::K6Args;
use crate::session::{self, Server, Session};
use crate::{sayln, shown};

pub async fn run(options: &K6Args) -> Result<ExitCode, String> {
    let root = options.project.root()?;
    let mut arguments = Map::new();
    if let Some(id) = &options.constraint {
        arguments.insert("constraint".into(), json!(id));
    }
    if let Some(scope) = &options.scope {
        arguments.insert("scope".into(), json!(scope));
    }
    if let Some(rate) = options.rate {
        arguments.insert("rate".into(), json!(rate));
    }
    if let Some(seconds) = options.duration {
        arguments.insert("duration_seconds".into(), json!(seconds));
    }
    if let Some(out) = &options.out {
        arguments.insert("out".into(), json!(project_relative(&root, out)));
    }
    if let Some(plan_out) = &options.plan_out {
        arguments.insert("plan_out".into(), json!(project_relative(&root, plan_out)));
    }
    let session = Session::open(Server::Implementation, session::project(&root, None)?).await?;
    let answer = session
        .call_as::<ExportResult>("export_load_test", Value::Object(arguments))
        .await;
    session.close().await;
    let r = match answer {
        Ok(r) => r,
        Err(text) => {
            eprintln!("error: {text}");
            return Ok(ExitCode::from(1));
        }
    };
    let script = shown(&root.join(&r.path));
    sayln!(
        "wrote {script} ({:.1} kB, {} run{})",
        r.bytes as f64 / 1000.0,
        r.runs.len(),
        if r.runs.len() == 1 { "" } else { "s" }
    );
    for run in &r.runs {
        let load = match run.rate {
            Some(rate) => format!("{rate} req/s"),
            None => format!("{} concurrent users", run.vus),
        };
        sayln!(
            "  {}: {load} on `{}` for {} s after a {} s warm-up; {}",
            run.scenario,
            run.scope,
            run.duration_seconds,
            run.warmup_seconds,
            run.thresholds.join(", ")
        );
        for note in &run.notes {
            sayln!("    note: {note}");
        }
    }
    for s in &r.skipped {
        sayln!("  skipped {}: {}", s.constraint_id, s.reason);
    }
    if let Some(plan) = &r.plan_path {
        sayln!(
            "the same load for sdd-load: {}  (sdd-load --plan FILE)",
            shown(&root.join(plan))
        );
    }
    if let Some(at) = &r.tokens_expire_at {
        sayln!("its signed tokens expire at {at}: export again after that");
    }
    for warning in &r.warnings {
        sayln!("warning: {warning}");
    }
    sayln!("run it:        k6 run {script}");
    sayln!("on a cluster:  {}", r.cluster);
    Ok(ExitCode::SUCCESS)
}

/// A path given on the command line (relative to the current directory, or absolute) as the
/// tool takes it: relative to the project root. One that is not inside it is passed as given,
/// for the server to refuse with its reason.
fn project_relative(root: &Path, path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = cwd.join(path);
    // The directory may not exist yet: compare the deepest existing ancestor, resolved.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let Ok(mut resolved) = existing.canonicalize() else {
        return path.display().to_string();
    };
    for name in rest.iter().rev() {
        resolved.push(name);
    }
    match resolved.strip_prefix(root) {
        Ok(inside) => inside.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_relative_to_the_project_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("load")).unwrap();
        assert_eq!(
            project_relative(&root, &root.join("load/new/x.k6.js")),
            "load/new/x.k6.js"
        );
        assert_eq!(project_relative(&root, Path::new("/tmp/x.js")), "/tmp/x.js");
    }
}

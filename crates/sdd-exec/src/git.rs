//! Running `git` with a timeout (the child is killed if it does not finish), and the state of
//! a work tree that every recorded run carries: the commit and whether the tree was dirty.

use std::path::Path;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::process::Command;

const GIT_TIMEOUT: Duration = Duration::from_secs(20);

/// `git -C dir args…`; its standard output, or an error that says what failed.
pub async fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null());
    let output = tokio::time::timeout(GIT_TIMEOUT, command.output())
        .await
        .map_err(|_| {
            format!(
                "`git {}` did not finish within {} s",
                args.join(" "),
                GIT_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).to_string())
}

/// Where the work tree stood when a run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TreeState {
    /// `HEAD`'s commit; absent outside a git repository or before the first commit.
    pub commit: Option<String>,
    /// Uncommitted changes (SDD's own `.sdd/` directory aside); absent outside git.
    pub dirty: Option<bool>,
}

pub async fn tree_state(dir: &Path) -> TreeState {
    let commit = git(dir, &["rev-parse", "--verify", "--quiet", "HEAD"])
        .await
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let dirty = git(dir, &["status", "--porcelain", "--", ".", ":(exclude).sdd"])
        .await
        .ok()
        .map(|s| !s.trim().is_empty());
    TreeState { commit, dirty }
}

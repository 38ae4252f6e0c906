//! Reading the spec tree as it was at a git revision, for impact analysis (git runs through
//! `sdd_exec::git`, with its timeout).

use std::path::Path;

pub struct SpecAtRevision {
    pub commit: String,
    /// `(path relative to the spec root, text)` of every spec file at that revision.
    pub sources: Vec<(String, String)>,
}

async fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    sdd_exec::git::git(dir, args).await.map_err(|e| {
        if e.starts_with("cannot run git") {
            format!("{e}; impact analysis needs git installed")
        } else {
            e
        }
    })
}

pub async fn spec_at_revision(specs: &Path, revision: &str) -> Result<SpecAtRevision, String> {
    // A revision starting with `-` would be read as an option.
    if revision.is_empty()
        || revision.starts_with('-')
        || revision.chars().any(|c| c.is_whitespace() || c == ':')
    {
        return Err(format!(
            "`{revision}` is not a git revision; pass e.g. `HEAD`, `HEAD~1`, a branch or a commit"
        ));
    }
    if !specs.is_dir() {
        return Err(format!("spec root `{}` does not exist", specs.display()));
    }
    let top = git(specs, &["rev-parse", "--show-toplevel"])
        .await
        .map_err(|e| format!("the spec root is not in a git repository: {e}"))?;
    let top = Path::new(top.trim())
        .canonicalize()
        .map_err(|e| e.to_string())?;
    let specs = specs.canonicalize().map_err(|e| e.to_string())?;
    let prefix = specs
        .strip_prefix(&top)
        .map_err(|_| "the spec root is outside the git work tree".to_string())?;
    let prefix = prefix.to_string_lossy().replace('\\', "/");
    let commit = git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--end-of-options",
            &format!("{revision}^{{commit}}"),
        ],
    )
    .await
    .map_err(|_| format!("unknown revision `{revision}`; check `git log` for one that exists"))?
    .trim()
    .to_string();
    let listing = if prefix.is_empty() {
        git(&top, &["ls-tree", "-r", "--name-only", &commit]).await?
    } else {
        git(
            &top,
            &["ls-tree", "-r", "--name-only", &commit, "--", &prefix],
        )
        .await?
    };
    let mut sources = Vec::new();
    for path in listing
        .lines()
        .filter(|p| p.ends_with(".yaml") || p.ends_with(".yml"))
    {
        let relative = if prefix.is_empty() {
            path.to_string()
        } else {
            path.strip_prefix(&format!("{prefix}/"))
                .unwrap_or(path)
                .to_string()
        };
        if relative.split('/').any(|part| part.starts_with('.')) {
            continue;
        }
        let text = git(&top, &["show", &format!("{commit}:{path}")]).await?;
        sources.push((relative, text));
    }
    Ok(SpecAtRevision { commit, sources })
}

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
        // What the loader reads: YAML and Gherkin `.feature` files.
        .filter(|p| sdd_spec::load::is_spec_file(Path::new(p)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Impact analysis compares the tree now with the tree at a revision: both must hold the
    /// same kinds of files, or every `.feature` scenario would look newly added.
    #[tokio::test]
    async fn a_revision_holds_the_feature_files_too() {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(ok, "git {args:?}");
        };
        std::fs::create_dir(dir.path().join("specs")).unwrap();
        std::fs::write(dir.path().join("specs/a.yaml"), "feature: A\n").unwrap();
        std::fs::write(dir.path().join("specs/b.feature"), "Feature: B\n").unwrap();
        std::fs::write(dir.path().join("specs/notes.txt"), "not a spec\n").unwrap();
        run(&["init", "-q"]);
        run(&["add", "."]);
        run(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "-m",
            "specs",
        ]);
        let at = spec_at_revision(&dir.path().join("specs"), "HEAD")
            .await
            .unwrap();
        let mut paths: Vec<&str> = at.sources.iter().map(|(p, _)| p.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["a.yaml", "b.feature"]);
    }
}
